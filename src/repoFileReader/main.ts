// The repository index's file reader: a worker thread (dist/repoFileReader.js) that reads files while the extension
// host's thread parses them. See src/core/repo/fileReaderWorker.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { serveFileReads } from '../core/repo/fileReaderWorker';

const data: unknown = workerData;
if (parentPort === null) throw new Error('repoFileReader.js runs only as a worker thread of the repository index.');
if (typeof data !== 'object' || data === null || !('rootPath' in data) || typeof data.rootPath !== 'string') {
  throw new Error('repoFileReader.js needs workerData.rootPath (the folder to read under).');
}
serveFileReads(data.rootPath, parentPort);
