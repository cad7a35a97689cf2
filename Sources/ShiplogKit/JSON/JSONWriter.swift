/// Writes JSON text. The canonical form (sorted keys, no spaces, minimal escapes) is what the
/// hash chain and content-derived ids are computed over, so it must never vary between runs.
public struct JSONWriter {
    public enum Style { case canonical, compact, pretty }

    public var bytes: [UInt8] = []
    let style: Style

    public init(style: Style = .canonical) {
        self.style = style
    }

    public static func canonical(_ value: JSON) -> String {
        var writer = JSONWriter(style: .canonical)
        writer.write(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    public static func compact(_ value: JSON) -> String {
        var writer = JSONWriter(style: .compact)
        writer.write(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    public static func pretty(_ value: JSON) -> String {
        var writer = JSONWriter(style: .pretty)
        writer.write(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    public mutating func write(_ value: JSON, indent: Int = 0) {
        switch value {
        case .null: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .number(let text): append(text)
        case .string(let text): writeString(text)
        case .array(let items):
            if items.isEmpty {
                append("[]")
                return
            }
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                write(item, indent: indent + 1)
            }
            newline(indent)
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            if object.isEmpty {
                append("{}")
                return
            }
            bytes.append(UInt8(ascii: "{"))
            let members = style == .canonical ? object.members.sorted { Self.utf8Less($0.key, $1.key) } : object.members
            var first = true
            for member in members {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                newline(indent + 1)
                writeString(member.key)
                bytes.append(UInt8(ascii: ":"))
                if style == .pretty { bytes.append(0x20) }
                write(member.value, indent: indent + 1)
            }
            newline(indent)
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private mutating func newline(_ indent: Int) {
        guard style == .pretty else { return }
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(0x20, count: indent * 2))
    }

    public mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Writes a string literal: escapes only `"`, `\` and control characters.
    public mutating func writeString(_ text: String) {
        Self.appendQuoted(text, to: &bytes)
    }

    public static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            // Copy runs that need no escaping in one go; most strings are one such run.
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                runStart = index + 1
                switch byte {
                case UInt8(ascii: "\""): bytes.append(0x5C); bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5C); bytes.append(0x5C)
                case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: "\\u00".utf8)
                    bytes.append(hexDigits[Int(byte >> 4)])
                    bytes.append(hexDigits[Int(byte & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        appendQuoted(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Orders keys by their UTF-8 bytes, which is stable across platforms and locales.
    public static func utf8Less(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}
