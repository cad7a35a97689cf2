import Crypto

/// SHA-256 over bytes, as a 32-byte array.
enum SHA256Digest {
    static func of(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    static func of(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }
}

/// SHA-256 over bytes given piece by piece.
struct SHA256Hasher {
    private var hasher = SHA256()

    mutating func update(_ bytes: [UInt8]) { hasher.update(data: bytes) }
    mutating func finalize() -> [UInt8] { Array(hasher.finalize()) }
}

/// The hash chain that makes the log tamper-evident.
///
/// `chain(n) = SHA-256("shiplog-chain-v1" ‖ 0x00 ‖ chain(n-1) ‖ canonical(event n))`, with 32 zero
/// bytes before the first event. The canonical form covers every stored field of the event and
/// the SHA-256 of its original document, so editing, deleting or reordering anything changes
/// every later hash. Hashing the uncompressed document means re-compressing never breaks it.
public enum HashChain {
    public static let genesis = [UInt8](repeating: 0, count: 32)
    static let domain: [UInt8] = Array("shiplog-chain-v1".utf8) + [0]

    static func next(previous: [UInt8], canonical: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: domain)
        hasher.update(data: previous)
        hasher.update(data: canonical)
        return Array(hasher.finalize())
    }
}

/// The canonical bytes of a stored event: canonical JSON with keys in byte order.
struct CanonicalEvent {
    var position: Int64
    var id: String
    var type: String
    var stream: String
    var streamVersion: Int64
    var time: Int64
    var recordedAt: Int64
    var source: String
    var documentSHA256: [UInt8]
    var cluster: String?
    var service: String?
    var commit: String?
    var actor: String?
    /// Already canonical JSON text.
    var data: [UInt8]

    func bytes(into buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        func key(_ name: StaticString) {
            buffer.append(buffer.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
            buffer.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { buffer.append(contentsOf: $0) }
            buffer.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        func optional(_ value: String?) {
            if let value { JSONWriter.appendQuoted(value, to: &buffer) } else { buffer.append(contentsOf: "null".utf8) }
        }
        key("actor"); optional(actor)
        key("cluster"); optional(cluster)
        key("commit"); optional(commit)
        key("data"); buffer.append(contentsOf: data)
        key("document"); buffer.append(UInt8(ascii: "\"")); Hex.append(documentSHA256, to: &buffer); buffer.append(UInt8(ascii: "\""))
        key("id"); JSONWriter.appendQuoted(id, to: &buffer)
        key("position"); buffer.append(contentsOf: String(position).utf8)
        key("recordedAt"); buffer.append(contentsOf: String(recordedAt).utf8)
        key("service"); optional(service)
        key("source"); JSONWriter.appendQuoted(source, to: &buffer)
        key("stream"); JSONWriter.appendQuoted(stream, to: &buffer)
        key("streamVersion"); buffer.append(contentsOf: String(streamVersion).utf8)
        key("time"); buffer.append(contentsOf: String(time).utf8)
        key("type"); JSONWriter.appendQuoted(type, to: &buffer)
        buffer.append(UInt8(ascii: "}"))
    }
}

public enum Hex {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
    }

    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 97...102: return byte - 87
        case 65...70: return byte - 55
        default: return nil
        }
    }
}
