import { SetMetadata } from '@nestjs/common';
import type { Role } from '@app/admin';

export const ROLE_KEY = 'admin:role';

/** The least role a route needs; routes without it need `admin`. */
export const RequireRole = (role: Role) => SetMetadata(ROLE_KEY, role);
