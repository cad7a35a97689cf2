/// Where a document came from: the file (or `<stdin>`) and the line it starts on.
public struct Origin: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}

/// A JSON document read from input, parsed, with secrets already redacted.
public struct InputDocument: Sendable {
    public let origin: Origin
    /// The document's own bytes from the input, with redacted values replaced.
    public let bytes: [UInt8]
    public let json: JSON
    public let redactions: Int
}

/// One item of input: a parsed document, or bytes that could not be one.
public enum InputItem: Sendable {
    case document(InputDocument)
    case invalid(origin: Origin, reason: String, bytes: [UInt8])
}

/// Reads documents from a file or standard input: one JSON document, a JSON array of them,
/// or NDJSON (any whitespace-separated sequence of documents). Streams in chunks, so inputs
/// of any size use memory in proportion to their largest document.
///
/// After a syntax error it resumes at the next line that starts with `{` or `[`, so every bad
/// line of an NDJSON file is reported, not only the first.
public final class InputReader {
    public static let maximumDocumentBytes = 64 << 20
    static let chunkSize = 1 << 20

    private let reader: any ByteSource
    public let name: String
    private var buffer: [UInt8] = []
    private var cursor = 0
    private var line = 1
    private var endOfInput = false
    private var started = false
    private var finished = false
    private var documentsSeen = 0
    private var inArray = false
    private var arrayNeedsSeparator = false

    /// Called before a read that would wait for more input (a pipe with nothing in it yet), so
    /// that what was read so far can be handed on instead of waiting with it.
    public var whenInputWaits: (() -> Void)?

    public init(path: String) throws(SystemError) {
        reader = try FileReader(path: path)
        name = path == "-" ? "<stdin>" : path
    }

    /// Reads documents held in memory (a request body); `name` stands for the file in origins.
    public init(bytes: [UInt8], name: String) {
        reader = MemoryReader(bytes)
        self.name = name
    }

    /// Documents split out of a container document, waiting to be returned.
    private var pending: [InputItem] = []

    /// The next document or invalid item; nil at the end of the input.
    public func next() throws(SystemError) -> InputItem? {
        if !pending.isEmpty { return pending.removeFirst() }
        if finished { return nil }
        if !started {
            started = true
            try fill()
            if let problem = binaryProblem() {
                finished = true
                return .invalid(origin: Origin(file: name, line: 1), reason: problem, bytes: Array(buffer.prefix(4096)))
            }
            if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { cursor = 3 }
        }
        while true {
            try skipWhitespace()
            if cursor >= buffer.count {
                finished = true
                if inArray {
                    return .invalid(origin: Origin(file: name, line: line), reason: "unexpected end of input inside the top-level array", bytes: [])
                }
                if documentsSeen == 0 {
                    return .invalid(origin: Origin(file: name, line: line), reason: "empty input: no JSON document found", bytes: [])
                }
                return nil
            }
            let byte = buffer[cursor]
            if inArray {
                if byte == UInt8(ascii: "]") {
                    advance(to: cursor + 1)
                    inArray = false
                    continue
                }
                if arrayNeedsSeparator {
                    guard byte == UInt8(ascii: ",") else {
                        inArray = false
                        return invalidAndResync(at: cursor, reason: "expected ',' or ']' between documents of the array")
                    }
                    advance(to: cursor + 1)
                    arrayNeedsSeparator = false
                    continue
                }
            } else if byte == UInt8(ascii: "[") {
                advance(to: cursor + 1)
                inArray = true
                layout = .sequence
                arrayNeedsSeparator = false
                documentsSeen += 1  // an empty array is a valid, empty input
                continue
            }
            if let item = try parseDocument() { return item }
        }
    }

    /// How documents are laid out: decided by the first document that parses.
    private enum Layout { case unknown, lines, sequence }
    private var layout = Layout.unknown

    private func parseDocument() throws(SystemError) -> InputItem? {
        while true {
            let start = cursor
            // NDJSON is parsed one line at a time, so a broken line cannot swallow the next one.
            var limit = buffer.count
            let byLine = layout != .sequence && !inArray
            if byLine {
                let newline = buffer[start...].firstIndex(of: 0x0A)
                // A line longer than a document may be is rejected unparsed, and only it.
                if (newline ?? buffer.count) - start > Self.maximumDocumentBytes { return try skipOversizedLine() }
                guard let newline else {
                    if !endOfInput {
                        // Double what is held, but stop just past the limit: no need to hold more to refuse it.
                        let held = buffer.count - start
                        try fill(atLeast: max(1, min(held, Self.maximumDocumentBytes + 1 - held)))
                        continue
                    }
                    limit = buffer.count
                    return try parseOne(start: start, limit: limit, byLine: true)
                }
                limit = newline
            }
            if let item = try parseOne(start: start, limit: limit, byLine: byLine) { return item }
        }
    }

    /// Parses one document in `buffer[start..<limit]`; nil means "read more and try again".
    private func parseOne(start: Int, limit: Int, byLine: Bool) throws(SystemError) -> InputItem? {
        let result: Result<(JSON, Int, [JSONReplacement]), JSONSyntaxError> = buffer.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: UnsafeRawBufferPointer(rebasing: raw[0..<limit]), offset: start, inspector: Redactor(),
                                    rejectsDuplicateKeys: true)
            do throws(JSONSyntaxError) {
                let value = try parser.parseValue()
                if byLine {
                    parser.skipWhitespace()
                    if !parser.isAtEnd {
                        return .failure(JSONSyntaxError(offset: parser.offset, reason: "unexpected \(parser.describeByte()) after the document on the same line"))
                    }
                }
                return .success((value, parser.offset, parser.replacements))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let (value, parsedEnd, replacements)):
            // A scalar at the very end of a chunk may continue in the next one.
            if parsedEnd >= buffer.count, !endOfInput, value.object == nil, value.array == nil {
                try fill()
                return nil
            }
            var end = parsedEnd
            while end > start, byLine, Self.isWhitespace(buffer[end - 1]) { end -= 1 }
            if layout == .unknown { layout = byLine ? .lines : .sequence }
            let origin = Origin(file: name, line: line)
            if end - start > Self.maximumDocumentBytes {
                advance(to: byLine ? limit : end)
                documentsSeen += 1
                if inArray { arrayNeedsSeparator = true }
                return .invalid(origin: origin, reason: "document larger than \(Self.maximumDocumentBytes >> 20) MiB", bytes: [])
            }
            var bytes = Array(buffer[start..<end])
            if !replacements.isEmpty { bytes = Self.splice(bytes, base: start, replacements) }
            advance(to: byLine ? limit : end)
            documentsSeen += 1
            if inArray { arrayNeedsSeparator = true }
            guard case .object(let object) = value else {
                return .invalid(origin: origin, reason: "a document must be a JSON object, found \(value.kindName)", bytes: bytes)
            }
            if object.count == 1, let records = object["Records"]?.array, !records.isEmpty {
                return splitRecords(Array(buffer[start..<end]), origin: origin)
            }
            return .document(InputDocument(origin: origin, bytes: bytes, json: value, redactions: replacements.count))
        case .failure(let error):
            if error.atEnd, byLine, layout == .unknown, limit < buffer.count || !endOfInput {
                // The first document does not fit on its line: this input is pretty-printed JSON.
                layout = .sequence
                return nil
            }
            if error.atEnd, !byLine, !endOfInput {
                if buffer.count - cursor > Self.maximumDocumentBytes { return tooLarge() }
                // Double what is held, so a large document is parsed a logarithmic number of times.
                try fill(atLeast: buffer.count - cursor)
                return nil
            }
            documentsSeen += 1
            inArray = false
            if byLine {
                let origin = Origin(file: name, line: line + countNewlines(from: start, to: min(error.offset, limit)))
                let bytes = Array(buffer[start..<limit])
                advance(to: limit)
                let reason = error.atEnd ? "\(error.reason) (the line ends before the document does)" : error.reason
                return .invalid(origin: origin, reason: reason, bytes: bytes)
            }
            return invalidAndResync(at: error.offset, reason: error.reason)
        }
    }

    /// A CloudTrail log file, `{"Records": [...]}`: each record is a document of its own, stored
    /// as its own bytes, so one irrelevant record does not drag the whole file into the log.
    private func splitRecords(_ container: [UInt8], origin: Origin) -> InputItem? {
        var items: [InputItem] = []
        container.withUnsafeBytes { raw in
            var locator = JSONParser(bytes: raw)
            guard let ranges = try? locator.elementRanges(ofArrayMember: "Records") else { return }
            for range in ranges {
                let line = origin.line + raw[0..<range.lowerBound].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                let elementOrigin = Origin(file: origin.file, line: line)
                var parser = JSONParser(bytes: UnsafeRawBufferPointer(rebasing: raw[0..<range.upperBound]), offset: range.lowerBound,
                                        inspector: Redactor(), rejectsDuplicateKeys: true)
                do throws(JSONSyntaxError) {
                    let value = try parser.parseValue()
                    var bytes = Array(raw[range])
                    if !parser.replacements.isEmpty { bytes = Self.splice(bytes, base: range.lowerBound, parser.replacements) }
                    if case .object = value {
                        items.append(.document(InputDocument(origin: elementOrigin, bytes: bytes, json: value,
                                                             redactions: parser.replacements.count)))
                    } else {
                        items.append(.invalid(origin: elementOrigin, reason: "a record must be a JSON object", bytes: bytes))
                    }
                } catch {
                    items.append(.invalid(origin: elementOrigin, reason: error.reason, bytes: Array(raw[range])))
                }
            }
        }
        guard !items.isEmpty else {
            return .invalid(origin: origin, reason: "the Records array cannot be split into documents", bytes: container)
        }
        pending = Array(items.dropFirst())
        return items[0]
    }

    /// Rejects the NDJSON line at the cursor, longer than a document may be, and reads on past
    /// its end: one huge line costs only itself, and memory stays bounded while it is skipped.
    private func skipOversizedLine() throws(SystemError) -> InputItem {
        let origin = Origin(file: name, line: line)
        var skipped = 0
        while true {
            if let newline = buffer[cursor...].firstIndex(of: 0x0A) {
                skipped += newline - cursor
                advance(to: newline + 1)
                break
            }
            skipped += buffer.count - cursor
            cursor = buffer.count
            if endOfInput { break }
            try fill()
        }
        documentsSeen += 1
        return .invalid(
            origin: origin,
            reason: "line of \(skipped) bytes is larger than \(Self.maximumDocumentBytes >> 20) MiB, the most a document may have; skipped",
            bytes: [])
    }

    private func tooLarge() -> InputItem {
        finished = true
        return .invalid(
            origin: Origin(file: name, line: line),
            reason: "document larger than \(Self.maximumDocumentBytes >> 20) MiB; the rest of the input is skipped", bytes: [])
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Reports an invalid item at `offset` and skips to the next line that starts a document.
    private func invalidAndResync(at offset: Int, reason: String) -> InputItem {
        let start = cursor
        let errorLine = line + countNewlines(from: cursor, to: min(offset, buffer.count))
        var resume = min(max(offset, cursor + 1), buffer.count)
        while resume < buffer.count {
            if buffer[resume - 1] == 0x0A, buffer[resume] == UInt8(ascii: "{") || buffer[resume] == UInt8(ascii: "[") { break }
            resume += 1
        }
        // Everything to the end of the buffer may belong to the bad document; later chunks are
        // read on demand and scanned the same way.
        let bytes = Array(buffer[start..<resume])
        advance(to: resume)
        if resume >= buffer.count, !endOfInput { pendingResync = true }
        return .invalid(origin: Origin(file: name, line: errorLine), reason: reason, bytes: bytes)
    }

    private var pendingResync = false

    private func skipWhitespace() throws(SystemError) {
        while true {
            if cursor >= buffer.count {
                if endOfInput { return }
                try fill()
                continue
            }
            if pendingResync {
                // Still inside a bad document that spanned chunks: skip to a line start with '{' or '['.
                let byte = buffer[cursor]
                let atLineStart = cursor == 0 ? lastByteBeforeBuffer == 0x0A : buffer[cursor - 1] == 0x0A
                if atLineStart && (byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[")) {
                    pendingResync = false
                    return
                }
                advance(to: cursor + 1)
                continue
            }
            switch buffer[cursor] {
            case 0x20, 0x09, 0x0D: cursor += 1
            case 0x0A:
                cursor += 1
                line += 1
            default: return
            }
        }
    }

    private var lastByteBeforeBuffer: UInt8 = 0x0A

    private func advance(to offset: Int) {
        line += countNewlines(from: cursor, to: offset)
        cursor = offset
    }

    private func countNewlines(from start: Int, to end: Int) -> Int {
        guard start < end else { return 0 }
        return buffer.withUnsafeBufferPointer { raw in
            var count = 0
            for index in start..<end where raw[index] == 0x0A { count += 1 }
            return count
        }
    }

    /// Drops consumed bytes and appends at least the next chunk (or `atLeast` bytes).
    private func fill(atLeast wanted: Int = 0) throws(SystemError) {
        if cursor > 0 {
            lastByteBeforeBuffer = buffer[cursor - 1]
            buffer.removeSubrange(0..<cursor)
            cursor = 0
        }
        var added = 0
        repeat {
            guard !endOfInput else { return }
            if let whenInputWaits, !reader.hasInputReady { whenInputWaits() }
            if let chunk = try reader.read(maximum: Self.chunkSize) {
                buffer.append(contentsOf: chunk)
                added += chunk.count
            } else {
                endOfInput = true
            }
        } while added < wanted
    }

    private func binaryProblem() -> String? {
        let head = buffer.prefix(8192)
        if head.contains(0) { return "binary data (NUL bytes), not JSON" }
        return nil
    }

    static func splice(_ bytes: [UInt8], base: Int, _ replacements: [JSONReplacement]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var offset = 0
        for replacement in replacements {
            let start = replacement.range.lowerBound - base
            output.append(contentsOf: bytes[offset..<start])
            JSONWriter.appendQuoted(replacement.value, to: &output)
            offset = replacement.range.upperBound - base
        }
        output.append(contentsOf: bytes[offset...])
        return output
    }
}
