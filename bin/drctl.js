#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
// The command is over: a socket an SDK client still holds (a call cancelled at Ctrl-C) must not
// keep the process alive until that socket's own time-out.
setTimeout(() => process.exit(), 1_000).unref();
