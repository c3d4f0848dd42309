import { describe, expect, it } from 'vitest';
import { EventBus, type StormEvent } from './bus.js';

describe('EventBus', () => {
  it('delivers to subscribers in order and keeps going past a throwing one', () => {
    const bus = new EventBus(10, () => new Date(0));
    const got: string[] = [];
    bus.subscribe(() => {
      throw new Error('broken');
    });
    bus.subscribe((e) => got.push(e.type));
    bus.publish('a', {});
    bus.publish('b', {});
    expect(got).toEqual(['a', 'b']);
  });

  it('replays what came after Last-Event-ID, within the ring', () => {
    const bus = new EventBus(3);
    const ids = ['a', 'b', 'c', 'd'].map((t) => bus.publish(t, {}).id);
    const replay: StormEvent[] = [];
    bus.subscribe((e) => replay.push(e), ids[1]);
    expect(replay.map((e) => e.type)).toEqual(['c', 'd']);
  });

  it('filters recent events by type prefix and unsubscribes', () => {
    const bus = new EventBus();
    bus.publish('pull.progress', {});
    bus.publish('instance.state', {});
    expect(bus.recent(10, 'pull').map((e) => e.type)).toEqual(['pull.progress']);
    const off = bus.subscribe(() => undefined);
    expect(bus.subscriberCount).toBe(1);
    off();
    expect(bus.subscriberCount).toBe(0);
  });
});
