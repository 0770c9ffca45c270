import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SODIUM_LOADER, SodiumProvider, type Sodium } from './sodium.provider';

describe('SodiumProvider', () => {
  it('hands every provider the same initialised libsodium', async () => {
    const [a, created] = await Promise.all([new SodiumProvider().ready(), SodiumProvider.create()]);
    const b = created.sodium;
    expect(a).toBe(b);
    expect(a.crypto_aead_xchacha20poly1305_ietf_KEYBYTES).toBe(32);
    expect(a.crypto_box_seal).toEqual(expect.any(Function));
  });

  it('calls its loader once and refuses synchronous use before ready', async () => {
    const fake = { fake: true } as unknown as Sodium;
    const loader = jest.fn(async () => fake);
    const provider = new SodiumProvider(loader);
    expect(() => provider.sodium).toThrow(/before ready/);
    await Promise.all([provider.ready(), provider.ready()]);
    expect(provider.sodium).toBe(fake);
    expect(loader).toHaveBeenCalledTimes(1);
  });

  it('is injectable, with the loader substitutable through SODIUM_LOADER', async () => {
    const fake = { fake: true } as unknown as Sodium;
    @Module({ providers: [SodiumProvider] })
    class RealModule {}
    @Module({ providers: [SodiumProvider, { provide: SODIUM_LOADER, useValue: async () => fake }] })
    class FakeModule {}
    for (const [module, expected] of [
      [RealModule, await new SodiumProvider().ready()],
      [FakeModule, fake],
    ] as const) {
      const app = await NestFactory.createApplicationContext(module, { logger: false });
      expect(await app.get(SodiumProvider).ready()).toBe(expected);
      await app.close();
    }
  });
});
