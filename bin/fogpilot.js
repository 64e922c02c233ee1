#!/usr/bin/env node
'use strict';
// Commands resolve when their work is done (long-running ones when stopped); what the SDKs leave behind (keep-alive
// sockets, timers) must not keep the process alive after that.
require('../dist/src/cli/main.js')
  .main(process.argv)
  .catch((error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = process.exitCode || 1;
  })
  .finally(() => process.exit(process.exitCode ?? 0));
