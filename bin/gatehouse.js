#!/usr/bin/env node
// The `gatehouse` command: runs the compiled CLI (build first with `npm run build`).
import '../dist/src/cli/main.js';
