import { describe, expect, it } from 'vitest';
import { genericTable, rowsOf, serviceCall } from './service-api.js';
import { ApiError } from './errors.js';

describe('network service lists', () => {
  it('finds the rows in an array or in the answer’s first array', () => {
    expect(rowsOf([{ a: 1 }])).toEqual([{ a: 1 }]);
    expect(rowsOf({ records: [{ id: 1 }], total: 1 })).toEqual([{ id: 1 }]);
    expect(rowsOf(undefined)).toEqual([]);
  });

  it('shows the asked-for columns the rows have, or all of them when the shape moved', () => {
    expect(genericTable([{ id: 1, type: 'MX', createdAt: 'x' }], ['id', 'type', 'ttl'])).toBe('ID  TYPE\n1   MX\n');
    expect(genericTable([{ uid: 'a', memberOf: [{ name: 'g' }] }], ['nope'])).toBe('UID  MEMBER OF\na    g\n');
  });

  it('a missing route says the service is not enabled; other errors pass', async () => {
    await expect(
      serviceCall('DNS records', () =>
        Promise.reject(new ApiError(404, 'MGR_ERR_ROUTE_NOT_FOUND', 'no such route: GET /api/v1/dns/records')),
      ),
    ).rejects.toMatchObject({
      code: 'CLI_ERR_NOT_ENABLED',
      message: expect.stringMatching(/^DNS records: not enabled on this manager/),
    });
    await expect(serviceCall('x', () => Promise.reject(new ApiError(404, 'MGR_ERR_NOT_FOUND', 'not found')))).rejects.toMatchObject({
      code: 'MGR_ERR_NOT_FOUND',
    });
  });
});
