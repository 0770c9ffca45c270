import { Scenario } from '../lib/scenario';

/**
 * Records without a key written to topics that do not exist yet: the first batches race Kafka's
 * auto-creation (no metadata, then partitions without a leader). A batch retried on other
 * partitions is written twice or breaks the idempotent producer's sequences; each record must
 * land once. No other fault.
 */
export const keylessNewTopic: Scenario = {
  name: 'keyless-new-topic',
  title: 'keyless records to topics Kafka creates on first use',
  setup: { keyless: true, autoCreateTopics: true },
  async fault(ctx) {
    await ctx.progress(1);
    ctx.mark('stream published; no fault beyond the new topics');
  },
};
