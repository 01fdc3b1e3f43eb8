// Preloaded (node --import) into the bridge in --ipv4 tests: `dual.localhost` resolves the way a
// dual-stack host's name does, to ::1 first and then 127.0.0.1, and to 127.0.0.1 alone when the
// caller asks for IPv4 only, through both the callback and the promise API (the start-up check of
// a *.localhost name uses the latter). No resolver is asked; everything else resolves as usual.
import dns from 'node:dns';
import dnsPromises from 'node:dns/promises';
import { syncBuiltinESMExports } from 'node:module';

const lookup = dns.lookup;
const ADDRESSES = [
  { address: '::1', family: 6 },
  { address: '127.0.0.1', family: 4 },
];
dns.lookup = function (hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  if (hostname !== 'dual.localhost') return lookup.call(this, hostname, options, callback);
  const opts = typeof options === 'number' ? { family: options } : options ?? {};
  const found = ADDRESSES.filter((a) => !opts.family || a.family === opts.family);
  if (opts.all) process.nextTick(callback, null, found);
  else process.nextTick(callback, null, found[0].address, found[0].family);
  return {};
};

const lookupPromise = dnsPromises.lookup;
dnsPromises.lookup = function (hostname, options) {
  if (hostname !== 'dual.localhost') return lookupPromise.call(this, hostname, options);
  const opts = typeof options === 'number' ? { family: options } : options ?? {};
  const found = ADDRESSES.filter((a) => !opts.family || a.family === opts.family);
  return Promise.resolve(opts.all ? found : found[0]);
};
// `import('node:dns/promises')` hands out the named exports, which follow the patch only once synced.
syncBuiltinESMExports();
