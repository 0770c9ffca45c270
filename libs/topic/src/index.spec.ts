import * as topic from './index';

describe('@app/topic public surface', () => {
  it('exports the filter and template API', () => {
    for (const name of ['parseTopicFilter', 'matchTopic', 'filterCovers', 'filtersIntersect', 'validateTopicName', 'compileTemplate'] as const) {
      expect(typeof topic[name]).toBe('function');
    }
    expect(new topic.TopicFilterError('x', 'y')).toBeInstanceOf(Error);
    expect(new topic.TemplateError('x', 1, 'y')).toBeInstanceOf(Error);
    expect(new topic.TemplateRenderError('x')).toMatchObject({ retriable: false, code: 'template' });
  });

  it('lets a parsed filter feed a template end to end', () => {
    const filter = topic.parseTopicFilter('sensors/{site}/{rest#}');
    const template = topic.compileTemplate('telemetry.{site}', filter.captures);
    const t = 'sensors/paris/a/b';
    const captures = topic.matchTopic(filter, t)!;
    expect(template.render({ topic: t, levels: t.split('/'), captures, qos: 1, rule: 'r', clientId: 'c' })).toBe('telemetry.paris');
  });
});
