/// Why a document is not valid JSON, and where: a byte offset into the parsed text.
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    /// The input ended before the value did: more bytes might complete it.
    public let atEnd: Bool

    public init(offset: Int, reason: String, atEnd: Bool = false) {
        self.offset = offset
        self.reason = reason
        self.atEnd = atEnd
    }

    public var description: String { reason }
}

/// Where a string value sits in its document: the keys and array steps that lead to it.
/// A `nil` component is a step into an array.
public struct JSONPathContext {
    public fileprivate(set) var components: [String?] = []

    /// The key of the value itself, when it is an object member.
    public var key: String? { components.last ?? nil }

    /// The component `distance` steps above the value (0 = the value's own key).
    public func component(_ distance: Int) -> String?? {
        let index = components.count - 1 - distance
        guard index >= 0 else { return .none }
        return .some(components[index])
    }
}

extension JSONPathContext {
    /// For walking a value already in memory the way the parser walks bytes.
    mutating func push(_ component: String?) { components.append(component) }
    mutating func pop() { components.removeLast() }
}

/// Decides, while a document is parsed, whether a string value must be replaced (redaction).
public protocol JSONStringInspector {
    /// Returns the replacement for `value`, or nil to keep it.
    mutating func inspect(_ value: String, at path: JSONPathContext) -> String?
    /// Called before an object member's value is parsed: a string that replaces the whole value
    /// (whatever its type: number, array, object), or nil to look inside it as usual.
    func redactsMember(at path: JSONPathContext) -> String?
}

extension JSONStringInspector {
    public func redactsMember(at path: JSONPathContext) -> String? { nil }
}

/// A replacement made while parsing: the byte range of the original string token and its new value.
public struct JSONReplacement: Sendable {
    public let range: Range<Int>
    public let value: String
}

/// A strict, fast JSON parser over bytes (RFC 8259): exact number text, validated UTF-8,
/// bounded nesting, and byte offsets in errors. One value per call; the caller decides what
/// may follow it (end of input, another document, a newline).
public struct JSONParser {
    public static let maximumDepth = 200

    private let bytes: UnsafeRawBufferPointer
    /// The same bytes, typed, for String's fast UTF-8 initializer.
    private let typed: UnsafeBufferPointer<UInt8>
    private(set) public var offset: Int
    private var depth = 0
    private var path = JSONPathContext()
    private var inspector: (any JSONStringInspector)?
    public private(set) var replacements: [JSONReplacement] = []
    /// Whether an object that names a member twice is an error. RFC 8259 leaves it to the
    /// reader, and readers disagree (shiplog's lookups take the first, jq the last), so input
    /// that is stored is held to one meaning.
    private let rejectsDuplicateKeys: Bool

    public init(bytes: UnsafeRawBufferPointer, offset: Int = 0, inspector: (any JSONStringInspector)? = nil,
                rejectsDuplicateKeys: Bool = false)
    {
        self.bytes = bytes
        self.typed = bytes.assumingMemoryBound(to: UInt8.self)
        self.offset = offset
        self.inspector = inspector
        self.rejectsDuplicateKeys = rejectsDuplicateKeys
    }

    /// Parses the bytes as exactly one JSON document, allowing surrounding whitespace.
    public static func parse(_ bytes: [UInt8], rejectsDuplicateKeys: Bool = false) throws(JSONSyntaxError) -> JSON {
        let result: Result<JSON, JSONSyntaxError> = bytes.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw, rejectsDuplicateKeys: rejectsDuplicateKeys)
            do throws(JSONSyntaxError) {
                let value = try parser.parseValue()
                parser.skipWhitespace()
                guard parser.offset == raw.count else {
                    return .failure(JSONSyntaxError(offset: parser.offset, reason: "unexpected \(parser.describeByte()) after the document"))
                }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    public static func parse(_ text: String, rejectsDuplicateKeys: Bool = false) throws(JSONSyntaxError) -> JSON {
        try parse(Array(text.utf8), rejectsDuplicateKeys: rejectsDuplicateKeys)
    }

    public var isAtEnd: Bool { offset >= bytes.count }

    public mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    /// Parses the object at the current offset and returns the byte range of each element of
    /// its array member `key` (for containers such as CloudTrail's `{"Records": [...]}`).
    public mutating func elementRanges(ofArrayMember key: String) throws(JSONSyntaxError) -> [Range<Int>] {
        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "{") else { throw fail("expected an object") }
        offset += 1
        var ranges: [Range<Int>] = []
        while true {
            skipWhitespace()
            guard offset < bytes.count else { throw fail("unexpected end of input inside an object") }
            if bytes[offset] == UInt8(ascii: "}") {
                offset += 1
                return ranges
            }
            if bytes[offset] == UInt8(ascii: ",") {
                offset += 1
                continue
            }
            let name = try parseString()
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            offset += 1
            skipWhitespace()
            guard name == key, offset < bytes.count, bytes[offset] == UInt8(ascii: "[") else {
                _ = try parseValue()
                continue
            }
            offset += 1
            while true {
                skipWhitespace()
                guard offset < bytes.count else { throw fail("unexpected end of input inside an array") }
                if bytes[offset] == UInt8(ascii: "]") {
                    offset += 1
                    break
                }
                if bytes[offset] == UInt8(ascii: ",") {
                    offset += 1
                    continue
                }
                let start = offset
                _ = try parseValue()
                ranges.append(start..<offset)
            }
        }
    }

    /// Parses one value starting at the current offset (leading whitespace skipped).
    public mutating func parseValue() throws(JSONSyntaxError) -> JSON {
        skipWhitespace()
        guard offset < bytes.count else { throw fail("unexpected end of input, expected a value") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""):
            let start = offset
            var value = try parseString()
            if inspector != nil, let replacement = inspector!.inspect(value, at: path) {
                replacements.append(JSONReplacement(range: start..<offset, value: replacement))
                value = replacement
            }
            return .string(value)
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected \(describeByte()), expected a value")
        }
    }

    func describeByte() -> String {
        guard offset < bytes.count else { return "end of input" }
        let byte = bytes[offset]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x\(hex.count == 1 ? "0" + hex : hex)"
    }

    private func fail(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: offset, reason: reason, atEnd: offset >= bytes.count)
    }

    private func truncated(_ reason: String, at start: Int) -> JSONSyntaxError {
        JSONSyntaxError(offset: start, reason: reason, atEnd: true)
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > Self.maximumDepth { throw fail("nesting deeper than \(Self.maximumDepth) levels") }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSON {
        try enter()
        offset += 1
        var members: [JSONMember] = []
        // Growing 1, 2, 4, 8 costs four reallocations per object; most objects here have a handful of members.
        members.reserveCapacity(8)
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            depth -= 1
            return .object(JSONObject(members: members))
        }
        // Past a handful of members, duplicates are found with a set rather than a scan.
        var seenKeys: Set<String>?
        while true {
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else {
                throw fail("expected a member name in quotes, found \(describeByte())")
            }
            let keyStart = offset
            let key = try parseString()
            if rejectsDuplicateKeys {
                let duplicate: Bool
                if seenKeys != nil {
                    duplicate = !seenKeys!.insert(key).inserted
                } else if members.count >= 16 {
                    var keys = Set(members.map(\.key))
                    duplicate = !keys.insert(key).inserted
                    seenKeys = keys
                } else {
                    duplicate = members.contains { $0.key == key }
                }
                if duplicate {
                    offset = keyStart
                    throw fail("duplicate member name \"\(key.prefix(40))\" in an object (readers disagree on which one counts)")
                }
            }
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else {
                throw fail("expected ':' after member name \"\(key.prefix(40))\", found \(describeByte())")
            }
            offset += 1
            path.components.append(key)
            var value: JSON
            if let marker = inspector?.redactsMember(at: path) {
                skipWhitespace()
                let valueStart = offset
                let firstReplacement = replacements.count
                value = try parseValue()
                if Self.holdsSecret(typed, valueStart..<offset) {
                    // The whole value goes, with anything already replaced inside it.
                    replacements.removeSubrange(firstReplacement...)
                    replacements.append(JSONReplacement(range: valueStart..<offset, value: marker))
                    value = .string(marker)
                }
            } else {
                value = try parseValue()
            }
            path.components.removeLast()
            members.append(JSONMember(key: key, value: value))
            skipWhitespace()
            guard offset < bytes.count else { throw fail("unexpected end of input inside an object") }
            if bytes[offset] == UInt8(ascii: ",") {
                offset += 1
            } else if bytes[offset] == UInt8(ascii: "}") {
                offset += 1
                depth -= 1
                return .object(JSONObject(members: members))
            } else {
                throw fail("expected ',' or '}' in an object, found \(describeByte())")
            }
        }
    }

    /// Whether a value's text says anything worth hiding: not `null`, `true`, `false`, `""`,
    /// an empty array or object, or a redaction marker.
    private static func holdsSecret(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        let text = bytes[range]
        guard let first = text.first else { return false }
        switch first {
        case UInt8(ascii: "n"), UInt8(ascii: "t"), UInt8(ascii: "f"): return false
        case UInt8(ascii: "\""):
            return text.count > 2 && !text.dropFirst().starts(with: "[REDACTED".utf8)
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            return text.dropFirst().contains { !(InputReader.isWhitespace($0) || $0 == UInt8(ascii: "]") || $0 == UInt8(ascii: "}")) }
        default: return true
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSON {
        try enter()
        offset += 1
        var items: [JSON] = []
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            depth -= 1
            return .array(items)
        }
        path.components.append(nil)
        while true {
            items.append(try parseValue())
            skipWhitespace()
            guard offset < bytes.count else { throw fail("unexpected end of input inside an array") }
            if bytes[offset] == UInt8(ascii: ",") {
                offset += 1
            } else if bytes[offset] == UInt8(ascii: "]") {
                offset += 1
                depth -= 1
                path.components.removeLast()
                return .array(items)
            } else {
                throw fail("expected ',' or ']' in an array, found \(describeByte())")
            }
        }
    }

    private mutating func parseLiteral(_ word: StaticString, _ value: JSON) throws(JSONSyntaxError) -> JSON {
        let count = word.utf8CodeUnitCount
        guard offset + count <= bytes.count else {
            let prefixMatches = word.withUTF8Buffer { expected in
                (offset..<bytes.count).allSatisfy { bytes[$0] == expected[$0 - offset] }
            }
            if prefixMatches { throw truncated("unexpected end of input in a literal", at: offset) }
            throw fail("unexpected \(describeByte()), expected a value")
        }
        let matches = word.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[offset + $0] == expected[$0] }
        }
        guard matches else { throw fail("unexpected \(describeByte()), expected a value") }
        offset += count
        return value
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSON {
        let start = offset
        if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        guard offset < bytes.count, isDigit(bytes[offset]) else { throw fail("invalid number: expected a digit") }
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
            if offset < bytes.count, isDigit(bytes[offset]) { throw fail("invalid number: leading zero") }
        } else {
            while offset < bytes.count, isDigit(bytes[offset]) { offset += 1 }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard offset < bytes.count, isDigit(bytes[offset]) else { throw fail("invalid number: expected a digit after '.'") }
            while offset < bytes.count, isDigit(bytes[offset]) { offset += 1 }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard offset < bytes.count, isDigit(bytes[offset]) else { throw fail("invalid number: expected an exponent") }
            while offset < bytes.count, isDigit(bytes[offset]) { offset += 1 }
        }
        if offset - start > 400 { throw JSONSyntaxError(offset: start, reason: "number longer than 400 characters") }
        return .number(String(decoding: UnsafeBufferPointer(rebasing: typed[start..<offset]), as: UTF8.self))
    }

    @inline(__always) private func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    /// Parses a string token at the current offset (which holds the opening quote).
    private mutating func parseString() throws(JSONSyntaxError) -> String {
        offset += 1
        let start = offset
        // Fast path: no escapes, only ASCII — the common case for keys, ids and ARNs.
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: typed[start..<offset]), as: UTF8.self)
                offset += 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte >= 0x80 || byte < 0x20 { break }
            offset += 1
        }
        var scratch: [UInt8] = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<offset]))
        while true {
            guard offset < bytes.count else {
                throw truncated("unterminated string", at: start - 1)
            }
            let byte = bytes[offset]
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                offset += 1
                guard offset < bytes.count else { throw truncated("unterminated string", at: start - 1) }
                let escape = bytes[offset]
                offset += 1
                switch escape {
                case UInt8(ascii: "\""): scratch.append(0x22)
                case UInt8(ascii: "\\"): scratch.append(0x5C)
                case UInt8(ascii: "/"): scratch.append(0x2F)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u")
                        else { throw fail("unpaired UTF-16 surrogate in \\u escape") }
                        offset += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid UTF-16 surrogate pair in \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("unpaired UTF-16 surrogate in \\u escape")
                    }
                    appendUTF8(UInt32(scalar), to: &scratch)
                default:
                    offset -= 1
                    throw fail("invalid escape '\\\(Character(Unicode.Scalar(escape)))' in a string")
                }
            case 0..<0x20:
                throw fail("control character (byte 0x\(String(byte, radix: 16))) inside a string; it must be escaped")
            case 0x80...:
                let length = try validateUTF8Sequence()
                scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]))
                offset += length
            default:
                scratch.append(byte)
                offset += 1
            }
        }
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> Int {
        guard offset + 4 <= bytes.count else { throw truncated("truncated \\u escape", at: offset) }
        var value = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: Int
            switch byte {
            case 48...57: digit = Int(byte) - 48
            case 65...70: digit = Int(byte) - 55
            case 97...102: digit = Int(byte) - 87
            default: throw fail("invalid hex digit in \\u escape")
            }
            value = value * 16 + digit
            offset += 1
        }
        return value
    }

    /// Checks the UTF-8 sequence at `offset` (RFC 3629: no overlongs, no surrogates) and returns its length.
    private func validateUTF8Sequence() throws(JSONSyntaxError) -> Int {
        let lead = bytes[offset]
        let length: Int
        var minimum: UInt32
        var scalar: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; minimum = 0x80; scalar = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; minimum = 0x800; scalar = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; minimum = 0x10000; scalar = UInt32(lead & 0x07)
        default: throw fail("invalid UTF-8 (byte 0x\(String(lead, radix: 16, uppercase: true)))")
        }
        guard offset + length <= bytes.count else { throw truncated("invalid UTF-8: truncated sequence", at: offset) }
        for index in 1..<length {
            let byte = bytes[offset + index]
            guard byte & 0xC0 == 0x80 else { throw fail("invalid UTF-8 (byte 0x\(String(byte, radix: 16, uppercase: true)))") }
            scalar = scalar << 6 | UInt32(byte & 0x3F)
        }
        guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else {
            throw fail("invalid UTF-8: overlong or surrogate sequence")
        }
        return length
    }

    private func appendUTF8(_ scalar: UInt32, to buffer: inout [UInt8]) {
        switch scalar {
        case 0..<0x80: buffer.append(UInt8(scalar))
        case 0x80..<0x800:
            buffer.append(UInt8(0xC0 | scalar >> 6))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            buffer.append(UInt8(0xE0 | scalar >> 12))
            buffer.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        default:
            buffer.append(UInt8(0xF0 | scalar >> 18))
            buffer.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            buffer.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
