import Crypto

/// Why a signing or public key could not be read. The message never holds the key's bytes.
public struct SigningKeyError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// The Ed25519 key that signs checkpoints, kept outside the database (a file or an environment
/// variable, like a deploy key). With it, forging or rewriting the log needs the key, not just
/// write access to the file.
public struct CheckpointSigner: Sendable {
    private let key: Curve25519.Signing.PrivateKey

    /// A new random key.
    public init() {
        key = Curve25519.Signing.PrivateKey()
    }

    /// The key a command that appends should sign with: `file` (a `--signing-key` flag), else
    /// `$SHIPLOG_SIGNING_KEY_FILE`, else the key in `$SHIPLOG_SIGNING_KEY`; nil when none is
    /// given. A key file that others can read is refused.
    public static func load(file: String?) throws(SigningKeyError) -> CheckpointSigner? {
        let origin: String
        let text: String
        if let path = file ?? System.environment("SHIPLOG_SIGNING_KEY_FILE").flatMap({ $0.isEmpty ? nil : $0 }) {
            origin = file != nil ? "--signing-key \(path)" : "$SHIPLOG_SIGNING_KEY_FILE (\(path))"
            if let mode = System.permissions(path), mode & 0o077 != 0 {
                throw SigningKeyError(
                    description: "\(origin) can be read by others (mode 0\(String(mode, radix: 8))); make it private: chmod 600 \(path)")
            }
            do { text = String(decoding: try System.readFile(path), as: UTF8.self) } catch {
                throw SigningKeyError(description: error.description)
            }
        } else if let value = System.environment("SHIPLOG_SIGNING_KEY"), !value.isEmpty {
            origin = "$SHIPLOG_SIGNING_KEY"
            text = value
        } else {
            return nil
        }
        return try CheckpointSigner(text: text, origin: origin)
    }

    /// Reads a key as `shiplog keygen` writes it: 64 hex digits (the 32-byte seed), surrounding
    /// whitespace ignored. `origin` names where it came from, for the error.
    public init(text: String, origin: String) throws(SigningKeyError) {
        guard let seed = KeyText.bytes(text), seed.count == 32,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        else {
            throw SigningKeyError(description: "\(origin) does not hold a shiplog signing key (64 hex digits, from `shiplog keygen`)")
        }
        self.key = key
    }

    /// The key as `shiplog keygen` writes it (a secret: it goes to a 0600 file, nowhere else).
    public var text: String { Hex.encode(Array(key.rawRepresentation)) + "\n" }

    public var publicKey: CheckpointPublicKey { CheckpointPublicKey(key.publicKey) }

    func sign(_ checkpoint: SignedCheckpoint.Fields) -> [UInt8] {
        // Ed25519 signing cannot fail for a valid key; an error here would be a bug in the library.
        Array(try! key.signature(for: checkpoint.message))
    }
}

/// The public half of a `CheckpointSigner`: what `verify --public-key` checks signatures with.
public struct CheckpointPublicKey: Sendable, Equatable, CustomStringConvertible {
    let key: Curve25519.Signing.PublicKey
    public let bytes: [UInt8]

    init(_ key: Curve25519.Signing.PublicKey) {
        self.key = key
        bytes = Array(key.rawRepresentation)
    }

    /// 64 hex digits (as `shiplog keygen` prints it), surrounding whitespace ignored.
    public init(text: String, origin: String) throws(SigningKeyError) {
        guard let bytes = KeyText.bytes(text), bytes.count == 32 else {
            throw SigningKeyError(description: "\(origin) is not a shiplog public key (64 hex digits, from `shiplog keygen`)")
        }
        try self.init(bytes: bytes, origin: origin)
    }

    init(bytes: [UInt8], origin: String) throws(SigningKeyError) {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: bytes) else {
            throw SigningKeyError(description: "\(origin) is not an Ed25519 public key")
        }
        self.init(key)
    }

    /// The key in hex, as printed by `keygen` and `anchor`.
    public var description: String { Hex.encode(bytes) }

    public static func == (left: Self, right: Self) -> Bool { left.bytes == right.bytes }

    func isValid(_ signature: [UInt8], for checkpoint: SignedCheckpoint.Fields) -> Bool {
        key.isValidSignature(signature, for: checkpoint.message)
    }
}

/// A checkpoint with its signature, as `shiplog anchor` prints it and `verify --anchor` reads it.
public struct SignedCheckpoint: Sendable, Equatable {
    /// What a signature covers: the chain head at a position, and when it was recorded.
    public struct Fields: Sendable, Equatable {
        public let position: Int64
        public let chain: [UInt8]
        public let recordedAt: Int64

        static let domain: [UInt8] = Array("shiplog-checkpoint-v1".utf8) + [0]

        /// `"shiplog-checkpoint-v1" ‖ 0x00 ‖ position ‖ chain ‖ recorded_at`, integers as 8 bytes big-endian.
        var message: [UInt8] {
            var bytes = Self.domain
            bytes.reserveCapacity(bytes.count + 48)
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: position >> shift)) }
            bytes += chain
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: recordedAt >> shift)) }
            return bytes
        }
    }

    public let fields: Fields
    /// Nil for a checkpoint appended without a key (or before signing existed).
    public let publicKey: CheckpointPublicKey?
    public let signature: [UInt8]?

    /// Whether the signature is a valid one by its own public key (not whether that key is trusted).
    public var signatureIsValid: Bool {
        guard let publicKey, let signature else { return false }
        return publicKey.isValid(signature, for: fields)
    }

    /// The anchor as JSON: `{"shiplog":"anchor","position":…,"chain":…,"recordedAt":…,"publicKey":…,"signature":…}`.
    public var json: String {
        var object: JSONObject = [
            "shiplog": .string("anchor"), "position": .number(String(fields.position)),
            "chain": .string(Hex.encode(fields.chain)), "recordedAt": .string(Timestamp(microseconds: fields.recordedAt).rfc3339),
        ]
        if let publicKey, let signature {
            object["publicKey"] = .string(publicKey.description)
            object["signature"] = .string(Hex.encode(signature))
        }
        return JSONWriter.pretty(.object(object))
    }

    /// Reads what `json` wrote.
    public init(json bytes: [UInt8], origin: String) throws(SigningKeyError) {
        func invalid(_ why: String) -> SigningKeyError {
            SigningKeyError(description: "\(origin) is not a shiplog anchor (\(why)); `shiplog anchor` writes one")
        }
        guard let object = try? JSONParser.parse(bytes).object, object["shiplog"]?.string == "anchor" else {
            throw invalid("not a JSON object with \"shiplog\": \"anchor\"")
        }
        guard let position = object["position"]?.int, position > 0 else { throw invalid("no position") }
        guard let chain = object["chain"]?.string.flatMap(Hex.decode), chain.count == 32 else {
            throw invalid("no 64-hex-digit chain")
        }
        guard let recordedText = object["recordedAt"]?.string, let recordedAt = Timestamp(iso8601: recordedText) else {
            throw invalid("no RFC 3339 recordedAt")
        }
        fields = Fields(position: position, chain: chain, recordedAt: recordedAt.microseconds)
        switch (object["publicKey"]?.string, object["signature"]?.string) {
        case (nil, nil):
            publicKey = nil
            signature = nil
        case (let key?, let signatureText?):
            publicKey = try CheckpointPublicKey(text: key, origin: origin + " publicKey")
            guard let signature = Hex.decode(signatureText), signature.count == 64 else {
                throw invalid("its signature is not 128 hex digits")
            }
            self.signature = signature
        default:
            throw invalid("a publicKey without a signature, or a signature without a publicKey")
        }
    }

    init(fields: Fields, publicKey: CheckpointPublicKey?, signature: [UInt8]?) {
        self.fields = fields
        self.publicKey = publicKey
        self.signature = signature
    }
}

/// Key text: hex digits with whitespace around them.
private enum KeyText {
    static func bytes(_ text: String) -> [UInt8]? {
        let trimmed = text.utf8.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        let hex = trimmed.reversed().drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }.reversed()
        return Hex.decode(String(decoding: Array(hex), as: UTF8.self))
    }
}

extension EventStore {
    /// The checkpoint at the head, with its signature when it has one: what `shiplog anchor`
    /// prints to keep outside the store. Nil for an empty log. Throws `StoreError.damaged` when
    /// the head has no checkpoint or the checkpoint does not match it (run `verify`).
    public func anchor() throws -> SignedCheckpoint? {
        try read {
            guard let head = try self.head() else { return nil }
            let statement = try database.prepare(
                """
                SELECT c.position, c.chain, c.recorded_at, s.public_key, s.signature
                FROM checkpoints c LEFT JOIN checkpoint_signatures s ON s.position = c.position
                ORDER BY c.position DESC LIMIT 1
                """)
            guard try statement.step(), statement.int(0) == head.position, Hex.encode(statement.blob(1)) == head.chain else {
                throw StoreError.damaged(
                    path: path, reason: "the head (position \(head.position)) has no matching checkpoint; `shiplog verify` says more")
            }
            let fields = SignedCheckpoint.Fields(position: statement.int(0), chain: statement.blob(1), recordedAt: statement.int(2))
            guard !statement.isNull(4) else { return SignedCheckpoint(fields: fields, publicKey: nil, signature: nil) }
            let signed = SignedCheckpoint(
                fields: fields, publicKey: try? CheckpointPublicKey(bytes: statement.blob(3), origin: "its public key"),
                signature: statement.blob(4))
            guard signed.signatureIsValid else {
                throw StoreError.damaged(
                    path: path, reason: "the signature of the checkpoint at the head (position \(head.position)) is not valid")
            }
            return signed
        }
    }
}
