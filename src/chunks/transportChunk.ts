// The entry point of dist/transport.js: the undici-based transport, a separate chunk because undici is about 520 KB
// minified, more than the whole extension bundle may weigh (400 KB). It is loaded just after activation, off its path.
export { createTransport } from '../core/stream/transport';
