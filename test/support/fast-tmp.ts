import { accessSync, constants } from 'node:fs';

// Every state save fsyncs two files (drctl's crash safety), which on a disk costs more than the
// rest of a full `up` on the fake cloud. Test files that run hundreds of full lifecycles import
// this first: their working directories then go to tmpfs, where fsync is free (os.tmpdir() reads
// TMPDIR at each call; each test file runs in its own process, so this stays local to it).
try {
  accessSync('/dev/shm', constants.W_OK);
  process.env.TMPDIR = '/dev/shm';
} catch {
  // no tmpfs here: the default temporary directory works, only slower
}
