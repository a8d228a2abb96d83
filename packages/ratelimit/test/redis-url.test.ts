import { isInvalidOptionError, Ratelimit } from '@periodkey/ratelimit';
import { parseRedisUrl } from '@periodkey/ratelimit/store';
import { describe, expect, test } from 'vitest';

describe('parseRedisUrl: the Redis URLs a store may be opened from', () => {
  test('a standalone server, with credentials, database and TLS', () => {
    expect(parseRedisUrl('redis://localhost')).toEqual({
      mode: 'standalone',
      master: undefined,
      tls: false,
      nodes: [{ host: 'localhost', port: 6379 }],
      username: undefined,
      password: undefined,
      db: 0,
    });
    expect(parseRedisUrl('rediss://app:p%40ss%3Aw0rd@10.0.0.5:6380/2')).toEqual({
      mode: 'standalone',
      master: undefined,
      tls: true,
      nodes: [{ host: '10.0.0.5', port: 6380 }],
      username: 'app',
      password: 'p@ss:w0rd',
      db: 2,
    });
    expect(parseRedisUrl('redis://:secret@[::1]:7000')).toMatchObject({
      nodes: [{ host: '::1', port: 7000 }],
      username: undefined,
      password: 'secret',
    });
  });

  test('a cluster by its startup nodes, with or without TLS', () => {
    expect(parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001,[::1]')).toEqual({
      mode: 'cluster',
      master: undefined,
      tls: false,
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 6379 },
      ],
      username: undefined,
      password: undefined,
      db: 0,
    });
    expect(parseRedisUrl('rediss+cluster://u:p@node-1:7000/')).toMatchObject({
      mode: 'cluster',
      master: undefined,
      tls: true,
    });
  });

  test("sentinels and the master they name, with the master's credentials and a database", () => {
    expect(parseRedisUrl('redis+sentinel://:pw@10.0.0.1,10.0.0.2:26380/my%20master/3')).toEqual({
      mode: 'sentinel',
      tls: false,
      nodes: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
      ],
      master: 'my master',
      username: undefined,
      password: 'pw',
      db: 3,
    });
    expect(parseRedisUrl('rediss+sentinel://s1/mymaster')).toMatchObject({
      tls: true,
      master: 'mymaster',
      db: 0,
    });
  });

  test.each([
    ['redis+sentinel://s1:26379', /names no master: add the master's name as the path \(\/mymaster\)/],
    ['redis+sentinel://s1:26379/m/x', /database "x", not a number/],
    ['mongodb://localhost', /scheme "mongodb:", which is not supported/],
    ['redis://', /names no host/],
    ['redis://localhost:99999', /host "localhost:99999", which is not valid \(check the port/],
    [
      'redis://a:1,b:2',
      /names 2 hosts; only a cluster or sentinel URL \(redis\+cluster:\/\/, redis\+sentinel:\/\/\) takes several/,
    ],
    ['redis+cluster://a:1,b:2/3', /selects database 3, but a Redis Cluster has only database 0/],
    ['redis://localhost/db', /database "db", not a number/],
    ['redis://localhost?family=6', /is not a valid Redis URL/],
    ['redis://%zz@localhost', /credentials or a master name that are not valid percent-encoding/],
    ['localhost:6379', /is not a valid Redis URL/],
  ])('%s is an InvalidOptionError that shows the forms that work', (url, problem) => {
    let error: unknown;
    try {
      parseRedisUrl(url, 'REDIS_URL');
    } catch (caught) {
      error = caught;
    }
    expect(isInvalidOptionError(error)).toBe(true);
    expect((error as Error).message).toMatch(problem);
    expect((error as Error).message).toMatch(
      /^REDIS_URL .*; use redis:\/\/.*redis\+cluster:\/\/host1:7000,host2:7001/,
    );
  });

  test('a password holding /, ?, # or @ never reaches a message', () => {
    expect(parseRedisUrl('redis://:hunt/er2@h:6379')).toMatchObject({
      password: 'hunt/er2',
      nodes: [{ host: 'h' }],
    });
    for (const url of [
      'redis://:hunt/er2@h:99999',
      'rediss://u:p@ss/w@h/x',
      'redis://:s?e#c@h/db',
      'memory://:hunter2@x',
    ]) {
      let message = '';
      try {
        new Ratelimit({ store: url, rules: { m: '1/minute' } });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toMatch(/hunt|er2|ss\/w|s\?e|hunter2/);
    }
  });

  test('the limiter checks a store URL at construction, with the same grammar', () => {
    expect(() => new Ratelimit({ store: 'redis+cluster://a:1,b:2/3', rules: { m: '1/minute' } })).toThrow(
      /^store URL selects database 3/,
    );
    expect(
      () => new Ratelimit({ store: 'redis+cluster://a:7000,b:7001', rules: { m: '1/minute' } }),
    ).not.toThrow();
  });
});
