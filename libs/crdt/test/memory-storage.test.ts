import { MemoryStorage } from '../src';
import { describeStorageContract } from './helpers/storage-contract';

describeStorageContract('MemoryStorage', { storage: () => new MemoryStorage() });
