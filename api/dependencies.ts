import type { Client } from '@temporalio/client';
import type { Database } from '../adapters/db/client';
import type { ObjectStore } from '../adapters/storage/s3';
import type { Config } from '../config';

export interface ApiDependencies {
  config: Config;
  db: Database;
  temporal: Client;
  store: ObjectStore;
}
