// A minimal GGUF v3 writer: header, typed key-values, tensor infos, and 32-byte aligned tensor data.
// Format reference: ggml's docs/gguf.md. All integers little-endian. Just enough for the test models.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Hash } from 'node:crypto';

/** GGUF value types (gguf_type in ggml). */
const GGUF_TYPE = {
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
} as const;

/** ggml tensor types the test models use. */
export const GGML_TYPE = { f32: 0, q4_0: 2, q8_0: 8 } as const;

/** A ggml tensor type id the writer knows how to size. */
export type GgmlType = (typeof GGML_TYPE)[keyof typeof GGML_TYPE];

/** Bytes per block and elements per block of each supported ggml type. */
const BLOCK_LAYOUT: Record<GgmlType, { bytes: number; elements: number }> = {
  [GGML_TYPE.f32]: { bytes: 4, elements: 1 },
  // Q4_0: one f16 scale + 16 bytes holding 32 four-bit values.
  [GGML_TYPE.q4_0]: { bytes: 18, elements: 32 },
  // Q8_0: one f16 scale + 32 signed bytes.
  [GGML_TYPE.q8_0]: { bytes: 34, elements: 32 },
};

/** GGUF's default alignment of tensor data, in bytes. */
export const GGUF_ALIGNMENT = 32;

/** A typed metadata value. */
export type GgufValue =
  | { readonly type: 'uint32'; readonly value: number }
  | { readonly type: 'int32'; readonly value: number }
  | { readonly type: 'float32'; readonly value: number }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'string[]'; readonly value: readonly string[] }
  | { readonly type: 'int32[]'; readonly value: readonly number[] };

/** One tensor to write: its shape in ggml order (innermost dimension first) and a producer of its bytes. */
export interface GgufTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: GgmlType;
  /** Writes the tensor's bytes, in order, through `emit` (called any number of times with consecutive pieces). */
  produce(emit: (chunk: Uint8Array) => void): void;
}

/** Byte size of a tensor of `type` with these dims. Throws when the innermost dim does not fill whole blocks. */
export function tensorByteSize(type: GgmlType, dims: readonly number[]): number {
  const layout = BLOCK_LAYOUT[type];
  const elements = dims.reduce((product, dim) => product * dim, 1);
  const inner = dims[0] ?? 1;
  if (inner % layout.elements !== 0) {
    throw new RangeError(`innermost dim ${inner} is not a multiple of the block size ${layout.elements}`);
  }
  return (elements / layout.elements) * layout.bytes;
}

/** Grows a list of buffers; the header and metadata are built here before going to disk. */
class ByteSink {
  readonly chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  u32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    this.push(b);
  }

  i32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    this.push(b);
  }

  u64(value: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.push(b);
  }

  f32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.push(b);
  }

  str(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }
}

function writeValue(sink: ByteSink, value: GgufValue): void {
  switch (value.type) {
    case 'uint32':
      sink.u32(GGUF_TYPE.uint32);
      sink.u32(value.value);
      return;
    case 'int32':
      sink.u32(GGUF_TYPE.int32);
      sink.i32(value.value);
      return;
    case 'float32':
      sink.u32(GGUF_TYPE.float32);
      sink.f32(value.value);
      return;
    case 'bool':
      sink.u32(GGUF_TYPE.bool);
      sink.push(Buffer.from([value.value ? 1 : 0]));
      return;
    case 'string':
      sink.u32(GGUF_TYPE.string);
      sink.str(value.value);
      return;
    case 'string[]':
      sink.u32(GGUF_TYPE.array);
      sink.u32(GGUF_TYPE.string);
      sink.u64(value.value.length);
      for (const item of value.value) sink.str(item);
      return;
    case 'int32[]': {
      sink.u32(GGUF_TYPE.array);
      sink.u32(GGUF_TYPE.int32);
      sink.u64(value.value.length);
      const b = Buffer.alloc(4 * value.value.length);
      value.value.forEach((item, index) => b.writeInt32LE(item, index * 4));
      sink.push(b);
      return;
    }
  }
}

function padTo(length: number, alignment: number): number {
  return (alignment - (length % alignment)) % alignment;
}

/**
 * Writes a GGUF v3 file to `path` and feeds every byte written into `hash` (so the caller gets the checksum without
 * reading the file back). Returns the number of bytes written.
 */
export function writeGguf(
  path: string,
  metadata: ReadonlyMap<string, GgufValue>,
  tensors: readonly GgufTensor[],
  hash: Hash,
): number {
  const head = new ByteSink();
  head.push(Buffer.from('GGUF', 'ascii'));
  head.u32(3);
  head.u64(tensors.length);
  head.u64(metadata.size);
  for (const [key, value] of metadata) {
    head.str(key);
    writeValue(head, value);
  }
  let offset = 0;
  for (const tensor of tensors) {
    head.str(tensor.name);
    head.u32(tensor.dims.length);
    for (const dim of tensor.dims) head.u64(dim);
    head.u32(tensor.type);
    head.u64(offset);
    offset += tensorByteSize(tensor.type, tensor.dims);
    offset += padTo(offset, GGUF_ALIGNMENT);
  }
  head.push(Buffer.alloc(padTo(head.length, GGUF_ALIGNMENT)));

  const fd = openSync(path, 'w');
  let written = 0;
  const emit = (chunk: Uint8Array): void => {
    let done = 0;
    while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
    hash.update(chunk);
    written += chunk.length;
  };
  try {
    for (const chunk of head.chunks) emit(chunk);
    for (const tensor of tensors) {
      const start = written;
      tensor.produce(emit);
      const size = written - start;
      const expected = tensorByteSize(tensor.type, tensor.dims);
      if (size !== expected) throw new Error(`tensor ${tensor.name} produced ${size} bytes, expected ${expected}`);
      emit(Buffer.alloc(padTo(size, GGUF_ALIGNMENT)));
    }
  } finally {
    closeSync(fd);
  }
  return written;
}
