internal import CLZ4

/// How a stored document's bytes are encoded. The value is written in `documents.codec`.
public enum Codec: Int64, Sendable {
    /// The bytes as they are: used when compression would not make them smaller.
    case raw = 0
    /// An LZ4 block with no dictionary.
    case lz4 = 1
    /// An LZ4 block compressed against a dictionary from the `dictionaries` table.
    case lz4Dictionary = 2
}

public enum CompressionError: Error, CustomStringConvertible {
    case corrupt(String)
    public var description: String {
        switch self {
        case .corrupt(let why): return "corrupt compressed payload: \(why)"
        }
    }
}

/// An LZ4 dictionary: up to 64 KiB of typical document bytes that blocks may refer back to.
public struct CompressionDictionary: Sendable {
    public let id: Int64
    public let bytes: [UInt8]

    public init(id: Int64, bytes: [UInt8]) {
        self.id = id
        self.bytes = bytes
    }
}

/// Compresses documents one by one, each an independent LZ4 block, so any row decodes alone.
///
/// Small JSON documents barely compress on their own; against a dictionary of typical documents
/// they shrink several times. Loading a dictionary costs far more than compressing one document,
/// so the loaded stream state is kept as a prototype and copied before each block.
public final class BlockCompressor {
    public let dictionary: CompressionDictionary?
    private let dictionaryBuffer: UnsafeMutableBufferPointer<UInt8>?
    private let prototype: UnsafeMutablePointer<LZ4_stream_t>
    private let working: UnsafeMutablePointer<LZ4_stream_t>
    private var output: [UInt8] = []

    public init(dictionary: CompressionDictionary?) {
        self.dictionary = dictionary
        prototype = .allocate(capacity: 1)
        working = .allocate(capacity: 1)
        LZ4_initStream(prototype, MemoryLayout<LZ4_stream_t>.size)
        if let dictionary, !dictionary.bytes.isEmpty {
            // LZ4 keeps a pointer into the dictionary, so it lives in memory this object owns.
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: dictionary.bytes.count)
            _ = buffer.initialize(from: dictionary.bytes)
            dictionaryBuffer = buffer
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = LZ4_loadDict(prototype, chars.baseAddress, Int32(chars.count))
            }
        } else {
            dictionaryBuffer = nil
        }
    }

    deinit {
        prototype.deallocate()
        working.deallocate()
        dictionaryBuffer?.deallocate()
    }

    /// Compresses `input`; calls `body` with the codec and the bytes to store.
    public func compress<T>(_ input: UnsafeRawBufferPointer, _ body: (Codec, UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let bound = Int(LZ4_compressBound(Int32(input.count)))
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let written: Int32 = output.withUnsafeMutableBytes { out in
            let source = input.baseAddress?.assumingMemoryBound(to: CChar.self)
            let destination = out.baseAddress!.assumingMemoryBound(to: CChar.self)
            if dictionaryBuffer != nil {
                working.update(from: prototype, count: 1)
                return LZ4_compress_fast_continue(working, source, destination, Int32(input.count), Int32(bound), 1)
            }
            return LZ4_compress_default(source, destination, Int32(input.count), Int32(bound))
        }
        if written <= 0 || Int(written) >= input.count {
            return try body(.raw, input)
        }
        return try output.withUnsafeBytes { out in
            try body(dictionaryBuffer != nil ? .lz4Dictionary : .lz4, UnsafeRawBufferPointer(rebasing: out[0..<Int(written)]))
        }
    }
}

/// Decodes stored blocks back to the original bytes.
public enum BlockDecompressor {
    public static func decompress(
        codec: Codec, stored: UnsafeRawBufferPointer, originalLength: Int, dictionary: [UInt8]?
    ) throws -> [UInt8] {
        switch codec {
        case .raw:
            guard stored.count == originalLength else {
                throw CompressionError.corrupt("raw payload is \(stored.count) bytes, expected \(originalLength)")
            }
            return Array(stored)
        case .lz4, .lz4Dictionary:
            if codec == .lz4Dictionary && dictionary == nil {
                throw CompressionError.corrupt("dictionary missing")
            }
            var result = [UInt8](repeating: 0, count: originalLength)
            let produced: Int32 = result.withUnsafeMutableBytes { out in
                let source = stored.baseAddress?.assumingMemoryBound(to: CChar.self)
                let destination = out.baseAddress?.assumingMemoryBound(to: CChar.self)
                if codec == .lz4Dictionary, let dictionary {
                    return dictionary.withUnsafeBytes { dict in
                        LZ4_decompress_safe_usingDict(
                            source, destination, Int32(stored.count), Int32(originalLength),
                            dict.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(dict.count))
                    }
                }
                return LZ4_decompress_safe(source, destination, Int32(stored.count), Int32(originalLength))
            }
            guard produced == Int32(originalLength) else {
                throw CompressionError.corrupt("LZ4 block decoded to \(produced) bytes, expected \(originalLength)")
            }
            return result
        }
    }
}

/// Builds an LZ4 dictionary from sample documents.
///
/// LZ4 has no trainer of its own. This follows the idea of zstd's COVER trainer: count, for every
/// 8-byte substring, how many samples contain it; then pick, greedily, the sample segments that
/// cover the most frequent substrings not covered yet, until the dictionary is full. Random hex
/// (shas, digests, ids) is rare across samples and so stays out; keys, ARNs and URLs go in.
public enum DictionaryTrainer {
    public static let maximumSize = 64 * 1024
    static let substringLength = 8
    static let segmentLength = 256

    private struct Segment {
        let sample: Int
        let start: Int
        let end: Int
    }

    public static func train(samples: [[UInt8]], capacity: Int = maximumSize) -> [UInt8] {
        var documentFrequency: [UInt64: Int32] = [:]
        var seen = Set<UInt64>()
        for sample in samples {
            seen.removeAll(keepingCapacity: true)
            forEachSubstringKey(sample, 0, sample.count) { key in
                if seen.insert(key).inserted { documentFrequency[key, default: 0] += 1 }
            }
        }
        var segments: [Segment] = []
        for (index, sample) in samples.enumerated() {
            var start = 0
            while start < sample.count {
                let end = min(sample.count, start + segmentLength)
                if end - start >= substringLength { segments.append(Segment(sample: index, start: start, end: end)) }
                start = end
            }
        }
        var covered = Set<UInt64>()
        func score(_ segment: Segment) -> Int {
            var total = 0
            var counted = Set<UInt64>()
            forEachSubstringKey(samples[segment.sample], segment.start, segment.end) { key in
                guard !covered.contains(key), counted.insert(key).inserted else { return }
                let frequency = Int(documentFrequency[key] ?? 0)
                if frequency > 1 { total += frequency }
            }
            return total
        }
        var chosen: [Segment] = []
        var used = Array(repeating: false, count: segments.count)
        var size = 0
        // Scores only fall as coverage grows, so a stale score is an upper bound: re-score lazily.
        var scores = segments.map(score)
        while size < capacity {
            var best = -1
            for index in segments.indices where !used[index] && (best < 0 || scores[index] > scores[best]) {
                best = index
            }
            guard best >= 0, scores[best] > 0 else { break }
            let fresh = score(segments[best])
            if fresh < scores[best] {
                scores[best] = fresh
                continue
            }
            used[best] = true
            let segment = segments[best]
            forEachSubstringKey(samples[segment.sample], segment.start, segment.end) { covered.insert($0) }
            chosen.append(segment)
            size += segment.end - segment.start
        }
        // The most useful segments go last, nearest the data, as LZ4 reads its history.
        var dictionary: [UInt8] = []
        for segment in chosen.reversed() {
            dictionary.append(contentsOf: samples[segment.sample][segment.start..<segment.end])
        }
        if dictionary.count > capacity { dictionary.removeFirst(dictionary.count - capacity) }
        return dictionary
    }

    private static func forEachSubstringKey(_ bytes: [UInt8], _ start: Int, _ end: Int, _ body: (UInt64) -> Void) {
        guard end - start >= substringLength else { return }
        bytes.withUnsafeBytes { raw in
            for offset in start...(end - substringLength) {
                body(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            }
        }
    }
}
