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

/// What an event compresses to: its data block, and (for the first event of a document) the
/// document block.
public struct CompressedEvent {
    public var data: [UInt8]
    public var documentCodec: Codec = .raw
    public var document: [UInt8] = []
}

/// Compresses an event's data and its original document as independent LZ4 blocks, so any row
/// decodes alone.
///
/// Small JSON documents barely compress on their own; against a dictionary of typical documents
/// they shrink several times. And the original document repeats most of its event's normalized
/// fields (ids, digests, ARNs): compressing it right after the data, in the same LZ4 window,
/// stores those once. The window is one contiguous buffer, `[dictionary | data | document]`, as
/// LZ4 needs for references across them. Loading a dictionary costs far more than compressing
/// one event, so the loaded stream state is kept as a prototype and copied before each event.
public final class EventCompressor {
    public let dictionary: CompressionDictionary?
    private let dictionaryLength: Int
    private var window: UnsafeMutableRawBufferPointer
    private let prototype: UnsafeMutablePointer<LZ4_stream_t>
    private let working: UnsafeMutablePointer<LZ4_stream_t>
    private var output: [UInt8] = []

    public init(dictionary: CompressionDictionary?) {
        self.dictionary = dictionary
        dictionaryLength = dictionary?.bytes.count ?? 0
        prototype = .allocate(capacity: 1)
        working = .allocate(capacity: 1)
        window = .allocate(byteCount: max(dictionaryLength, 1) + (1 << 16), alignment: 16)
        loadPrototype()
    }

    deinit {
        prototype.deallocate()
        working.deallocate()
        window.deallocate()
    }

    /// LZ4 keeps pointers into the window, so the dictionary is (re)loaded wherever the window lives.
    private func loadPrototype() {
        LZ4_initStream(prototype, MemoryLayout<LZ4_stream_t>.size)
        guard let dictionary, dictionaryLength > 0 else { return }
        dictionary.bytes.withUnsafeBytes { window.copyMemory(from: $0) }
        _ = LZ4_loadDict(prototype, window.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(dictionaryLength))
    }

    private func reserve(_ bytes: Int) {
        let needed = dictionaryLength + bytes
        guard needed > window.count else { return }
        window.deallocate()
        window = .allocate(byteCount: max(needed, window.count * 2), alignment: 16)
        loadPrototype()
    }

    /// Compresses an event's canonical data and, when given, the document right after it.
    public func compress(data: [UInt8], document: [UInt8]? = nil) -> CompressedEvent {
        reserve(data.count + (document?.count ?? 0))
        working.update(from: prototype, count: 1)
        let base = window.baseAddress!
        data.withUnsafeBytes { base.advanced(by: dictionaryLength).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        var result = CompressedEvent(data: block(at: dictionaryLength, count: data.count) ?? [])
        guard let document else { return result }
        let start = dictionaryLength + data.count
        document.withUnsafeBytes { if $0.count > 0 { base.advanced(by: start).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        if let compressed = block(at: start, count: document.count), compressed.count < document.count {
            result.documentCodec = dictionaryLength > 0 ? .lz4Dictionary : .lz4
            result.document = compressed
        } else {
            result.document = document
        }
        return result
    }

    /// Compresses window[start..<start+count] as the next block of the working stream.
    private func block(at start: Int, count: Int) -> [UInt8]? {
        let bound = Int(LZ4_compressBound(Int32(count)))
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let written = output.withUnsafeMutableBytes { out in
            LZ4_compress_fast_continue(
                working, window.baseAddress!.advanced(by: start).assumingMemoryBound(to: CChar.self),
                out.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(count), Int32(bound), 1)
        }
        guard written > 0 || count == 0 else { return nil }
        return Array(output[0..<Int(written)])
    }
}

/// Decodes stored blocks back to the original bytes.
public enum EventDecompressor {
    /// An event's canonical data.
    public static func data(_ stored: UnsafeRawBufferPointer, length: Int, dictionary: [UInt8]?) throws -> [UInt8] {
        guard let dictionary, !dictionary.isEmpty else { return try decode(stored, length: length, history: []) }
        try checkPlausible(length: length, stored: stored.count)
        // LZ4 reads a dictionary that is not in front of the output where it lies, so the block
        // decodes straight into its own array: no copy of the 64 KiB dictionary per event.
        var produced: Int32 = 0
        let decoded = dictionary.withUnsafeBytes { dictionaryBytes in
            [UInt8](unsafeUninitializedCapacity: length) { output, initialized in
                produced = LZ4_decompress_safe_usingDict(
                    stored.baseAddress?.assumingMemoryBound(to: CChar.self),
                    UnsafeMutableRawPointer(output.baseAddress)?.assumingMemoryBound(to: CChar.self),
                    Int32(stored.count), Int32(length),
                    dictionaryBytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(dictionaryBytes.count))
                initialized = produced == Int32(length) ? length : 0
            }
        }
        guard produced == Int32(length) else {
            throw CompressionError.corrupt("LZ4 block decoded to \(produced) bytes, expected \(length)")
        }
        return decoded
    }

    /// A document, given its event's data (what it was compressed against).
    public static func document(
        codec: Codec, stored: UnsafeRawBufferPointer, length: Int, dictionary: [UInt8]?, firstEventData: [UInt8]
    ) throws -> [UInt8] {
        switch codec {
        case .raw:
            guard stored.count == length else {
                throw CompressionError.corrupt("raw payload is \(stored.count) bytes, expected \(length)")
            }
            return Array(stored)
        case .lz4:
            return try decode(stored, length: length, history: firstEventData)
        case .lz4Dictionary:
            guard let dictionary else { throw CompressionError.corrupt("its dictionary is missing") }
            return try decode(stored, length: length, history: dictionary + firstEventData)
        }
    }

    /// A damaged length column must be an integrity failure, not an allocation of its size: an LZ4
    /// block expands at most 255-fold.
    private static func checkPlausible(length: Int, stored: Int) throws {
        guard length >= 0 else { throw CompressionError.corrupt("negative length") }
        guard length <= stored * 255 + 16 else {
            throw CompressionError.corrupt("length \(length) is more than a \(stored)-byte LZ4 block can hold")
        }
    }

    /// Decodes a block written right after `history` (LZ4 reads at most its last 64 KiB).
    private static func decode(_ stored: UnsafeRawBufferPointer, length: Int, history: [UInt8]) throws -> [UInt8] {
        try checkPlausible(length: length, stored: stored.count)
        let usable = history.suffix(65_536)
        var buffer = [UInt8](repeating: 0, count: usable.count + length)
        buffer.replaceSubrange(0..<usable.count, with: usable)
        let produced: Int32 = buffer.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            return LZ4_decompress_safe_usingDict(
                stored.baseAddress?.assumingMemoryBound(to: CChar.self), base + usable.count, Int32(stored.count),
                Int32(length), base, Int32(usable.count))
        }
        guard produced == Int32(length) else {
            throw CompressionError.corrupt("LZ4 block decoded to \(produced) bytes, expected \(length)")
        }
        return Array(buffer[usable.count...])
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
    /// More sample bytes than this add little and cost training time.
    static let sampleBudget = 1 << 20

    private struct Segment {
        let sample: Int
        let start: Int
        let end: Int
    }

    public static func train(samples input: [[UInt8]], capacity: Int = maximumSize) -> [UInt8] {
        var samples: [[UInt8]] = []
        var budget = sampleBudget
        for sample in input where budget > 0 {
            samples.append(Array(sample.prefix(budget)))
            budget -= sample.count
        }
        let total = samples.reduce(0) { $0 + max(0, $1.count - substringLength + 1) }
        guard total > 0 else { return [] }
        var table = SubstringTable(capacity: total)
        // Document frequency: how many samples contain each substring.
        for (index, sample) in samples.enumerated() { table.countOnce(sample, sampleIndex: Int32(index)) }
        var segments: [Segment] = []
        for (index, sample) in samples.enumerated() {
            var start = 0
            while start < sample.count {
                let end = min(sample.count, start + segmentLength)
                if end - start >= substringLength { segments.append(Segment(sample: index, start: start, end: end)) }
                start = end
            }
        }
        func score(_ segment: Segment) -> Int { table.score(samples[segment.sample], segment.start, segment.end) }
        var chosen: [Segment] = []
        var size = 0
        // Scores only fall as coverage grows, so a stale score is an upper bound: pop the best,
        // re-score it, and keep it only if it is still the best (lazy greedy).
        var heap = MaxHeap(segments.indices.map { (score(segments[$0]), $0) })
        while size < capacity, let (stale, index) = heap.pop(), stale > 0 {
            let fresh = score(segments[index])
            if fresh < stale {
                heap.push((fresh, index))
                continue
            }
            let segment = segments[index]
            table.cover(samples[segment.sample], segment.start, segment.end)
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

}

/// A binary max-heap of (score, index) pairs.
private struct MaxHeap {
    private var items: [(Int, Int)]

    init(_ items: [(Int, Int)]) {
        self.items = []
        self.items.reserveCapacity(items.count)
        for item in items { push(item) }
    }

    mutating func push(_ item: (Int, Int)) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].0 > items[parent].0 else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (Int, Int)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var largest = parent
                if left < items.count, items[left].0 > items[largest].0 { largest = left }
                if right < items.count, items[right].0 > items[largest].0 { largest = right }
                if largest == parent { break }
                items.swapAt(parent, largest)
                parent = largest
            }
        }
        return top
    }
}

/// An open-addressing table of 8-byte substrings with the counters the trainer needs;
/// several times faster than `Dictionary` for a million small keys.
private struct SubstringTable {
    var keys: [UInt64]
    var occupied: [Bool]
    var frequency: [Int32]
    var lastSample: [Int32]
    var scoreStamp: [Int32]
    var covered: [Bool]
    var stamp: Int32 = 0
    let mask: Int

    init(capacity: Int) {
        var size = 1024
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: 0, count: size)
        occupied = Array(repeating: false, count: size)
        frequency = Array(repeating: 0, count: size)
        lastSample = Array(repeating: -1, count: size)
        scoreStamp = Array(repeating: 0, count: size)
        covered = Array(repeating: false, count: size)
        mask = size - 1
    }

    mutating func slot(for key: UInt64) -> Int {
        var index = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
        while occupied[index] && keys[index] != key { index = (index + 1) & mask }
        if !occupied[index] {
            occupied[index] = true
            keys[index] = key
        }
        return index
    }

    // The loops below run over every 8-byte substring of a megabyte of samples, several times;
    // as methods on the table they touch its arrays directly, with no closure boxes and no
    // dynamic exclusivity checks (those cost 12% of a small ingest, measured with callgrind).

    /// Counts each distinct substring of a sample once, for document frequency.
    mutating func countOnce(_ sample: [UInt8], sampleIndex: Int32) {
        guard sample.count >= DictionaryTrainer.substringLength else { return }
        sample.withUnsafeBytes { raw in
            for offset in 0...(raw.count - DictionaryTrainer.substringLength) {
                let slot = slot(for: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                if lastSample[slot] != sampleIndex {
                    lastSample[slot] = sampleIndex
                    frequency[slot] += 1
                }
            }
        }
    }

    /// How much a segment would add: the frequencies of its substrings not yet covered, each once.
    mutating func score(_ sample: [UInt8], _ start: Int, _ end: Int) -> Int {
        guard end - start >= DictionaryTrainer.substringLength else { return 0 }
        stamp += 1
        var sum = 0
        sample.withUnsafeBytes { raw in
            for offset in start...(end - DictionaryTrainer.substringLength) {
                let slot = slot(for: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                guard !covered[slot], scoreStamp[slot] != stamp else { continue }
                scoreStamp[slot] = stamp
                let count = Int(frequency[slot])
                if count > 1 { sum += count }
            }
        }
        return sum
    }

    mutating func cover(_ sample: [UInt8], _ start: Int, _ end: Int) {
        guard end - start >= DictionaryTrainer.substringLength else { return }
        sample.withUnsafeBytes { raw in
            for offset in start...(end - DictionaryTrainer.substringLength) {
                covered[slot(for: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))] = true
            }
        }
    }
}
