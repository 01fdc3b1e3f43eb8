#!/usr/bin/env node
// A tiny launcher: all logic lives in the compiled code under dist/.
import { main } from '../dist/mcp-tether.js';

main(process.argv);
