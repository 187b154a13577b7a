// Imported first by the runners, before anything that loads src/log.ts: this process's own info lines (the embedded
// database starting) would otherwise mix with the JSON result on stdout. The server's processes log as usual.
process.env.LOG_LEVEL ??= 'warn'
