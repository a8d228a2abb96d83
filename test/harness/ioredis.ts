// The ioredis client, for tests in packages that do not depend on it themselves (the core's storage test
// writes through the SDK on a real Redis).
export { Cluster, Redis } from 'ioredis';
