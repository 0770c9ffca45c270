import { BridgeMessage, classify, ClassifiedFailure, Destination, DestinationPreview, ShutdownError } from '@app/core';
import { TemplateContext } from '@app/topic';
import { PayloadTransformer, PreparedPayload, TransformingRule, usesSchema } from './payload.transformer';

const NO_HEADERS: Readonly<Record<string, string | Buffer>> = Object.freeze({});
const NO_PAYLOAD = (): Buffer => Buffer.alloc(0);

/** What a rule needs for a preview: its transform and its destinations. */
export interface PreviewedRule extends TransformingRule {
  readonly name: string;
  readonly destinations: readonly Destination[];
}

/** Where one message would go under one rule, or why it would not; nothing written. */
export interface RulePreview {
  /** Set when a filter step dropped the message: that step's label. */
  readonly filtered?: string;
  /** What would be dead-lettered, by stage: `transform`, or the destination's name. */
  readonly failures: ReadonlyArray<{ readonly stage: string; readonly failure: ClassifiedFailure }>;
  readonly outputs: ReadonlyArray<{ readonly destination: string; readonly preview: DestinationPreview }>;
}

/**
 * Sees each output's payload while it exists: plaintext is wiped once the preview is done,
 * so whoever needs the bytes copies or decodes them here.
 */
export type PayloadInspector = (destination: string, preview: DestinationPreview, payload: Buffer) => void;

/** The template context of one message under one rule, for delivery and previews alike. */
export function ruleContext(
  rule: string,
  message: BridgeMessage,
  levels: string[],
  captures: Readonly<Record<string, string>>,
  clientId: string,
): TemplateContext {
  return { topic: message.topic, levels, captures, qos: message.qos, rule, clientId };
}

/**
 * Runs one message through one rule's transform, process steps and destinations' addressing
 * without writing anything: the dry run of a replay and `bridge test` both see the rule
 * exactly as delivery would run it.
 */
export async function previewRule(
  transformer: PayloadTransformer,
  rule: PreviewedRule,
  message: BridgeMessage,
  context: TemplateContext,
  inspect?: PayloadInspector,
): Promise<RulePreview> {
  let payload: PreparedPayload;
  try {
    payload = usesSchema(rule)
      ? await transformer.prepareWithSchema(rule, message, context, (document) => addressesOf(rule, message, { ...context, document }))
      : transformer.prepare(rule, message, context);
  } catch (error) {
    if (error instanceof ShutdownError) throw error;
    return { failures: [{ stage: 'transform', failure: classify(error) }], outputs: [] };
  }
  if (payload.filteredBy !== undefined) return { filtered: payload.filteredBy, failures: [], outputs: [] };
  if (payload.document !== undefined) context = { ...context, document: payload.document };
  const failures: Array<RulePreview['failures'][number]> = [];
  const outputs: Array<RulePreview['outputs'][number]> = [];
  try {
    for (const destination of rule.destinations) {
      try {
        const preview = destination.describe({ message, rule: rule.name, context, payload: payload.forAddress, headers: payload.headers ?? NO_HEADERS });
        const bytes = payload.forAddress(preview.address);
        inspect?.(destination.name, preview, bytes);
        outputs.push({ destination: destination.name, preview });
      } catch (error) {
        failures.push({ stage: destination.name, failure: classify(error) });
      }
    }
  } finally {
    payload.dispose();
  }
  return { failures, outputs };
}

/**
 * Where a rule's destinations would write this message, by the same code as their writes (a
 * schema's subject may be named after it); a destination that cannot address the message is
 * left out: its write meets the same problem and dead-letters the message for it alone.
 */
export function addressesOf(rule: PreviewedRule, message: BridgeMessage, context: TemplateContext): string[] {
  const addresses: string[] = [];
  for (const destination of rule.destinations) {
    try {
      addresses.push(destination.describe({ message, rule: rule.name, context, payload: NO_PAYLOAD, headers: NO_HEADERS }).address);
    } catch {
      // See above: write() reports it.
    }
  }
  return addresses;
}
