import { describe, expect, it } from 'vitest';
import { MIN_REPLICA_EVERY_S } from '../../../common/replica-interval.js';
import { LaunchBody, ReplicaBody } from '../../protocol/index.js';

describe('the replication interval', () => {
  it("has one floor: the API's schema states the one the CLI checks", () => {
    // As JSON Schema, the way the API serves and checks it.
    const schema = (s: unknown) => JSON.parse(JSON.stringify(s));
    expect(schema(ReplicaBody).properties.every.minimum).toBe(MIN_REPLICA_EVERY_S);
    expect(schema(LaunchBody).properties.replicate.properties.every.minimum).toBe(MIN_REPLICA_EVERY_S);
  });
});
