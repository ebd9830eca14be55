#!/usr/bin/env node
// The lab runs from its TypeScript sources (no build step to forget); tsx compiles them on load.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
