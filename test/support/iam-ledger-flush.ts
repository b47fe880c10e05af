// Vitest setup file: each test file's IAM ledger is written after its last test (see iam-ledger.ts).
import { afterAll } from 'vitest';
import { LEDGER } from './fake-cloud/authz/authorizer.js';

afterAll(() => LEDGER.flush());
