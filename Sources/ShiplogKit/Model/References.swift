/// A task-definition revision, `family:revision`, as ECS names it.
public struct TaskDefinitionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let family: String
    public let revision: Int

    public init(family: String, revision: Int) {
        self.family = family
        self.revision = revision
    }

    /// Accepts `family:rev` and a task-definition ARN (`arn:aws:ecs:…:task-definition/family:rev`).
    public init?(_ text: String) {
        var name = Substring(text)
        if name.hasPrefix("arn:") {
            guard let slash = name.byteRange(of: ":task-definition/") else { return nil }
            name = name[slash.upperBound...]
        }
        let bytes = name.utf8
        guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")) else { return nil }
        let family = bytes[..<colon]
        let digits = bytes[bytes.index(after: colon)...]
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        let revision = digits.reduce(0) { $0 * 10 + Int($1 - 48) }
        guard revision > 0, !family.isEmpty, family.count <= 255, family.allSatisfy({ Self.isFamilyByte($0) }) else { return nil }
        self.family = String(Substring(family))
        self.revision = revision
    }

    /// The family from an ARN or name that has no revision (`arn:…:task-definition/family`).
    public static func family(fromARN text: String) -> String? {
        guard let slash = text.byteRange(of: ":task-definition/") else { return nil }
        let rest = text[slash.upperBound...]
        return String(rest.split(separator: ":").first ?? rest)
    }

    static func isFamilyByte(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 45 || byte == 95
    }

    public var description: String { "\(family):\(revision)" }

    public static func < (lhs: TaskDefinitionID, rhs: TaskDefinitionID) -> Bool {
        (lhs.family, lhs.revision) < (rhs.family, rhs.revision)
    }
}

/// A container image reference: `[registry/]repository[:tag][@digest]`.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    public var registry: String?
    public var repository: String
    public var tag: String?
    public var digest: String?

    public init(registry: String? = nil, repository: String, tag: String? = nil, digest: String? = nil) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    public init?(_ text: String) {
        // Byte by byte: references are ASCII, and this runs for every container of every task event.
        let bytes = text.utf8
        guard !bytes.isEmpty, !bytes.contains(UInt8(ascii: " ")) else { return nil }
        var start = bytes.startIndex
        var end = bytes.endIndex
        if let at = bytes.firstIndex(of: UInt8(ascii: "@")) {
            let digest = String(Substring(bytes[bytes.index(after: at)...]))
            guard Self.isDigest(digest) else { return nil }
            self.digest = digest
            end = at
        }
        // A registry is the first component when it looks like a host (has '.' or ':' or is localhost).
        if let slash = bytes[start..<end].firstIndex(of: UInt8(ascii: "/")) {
            let first = bytes[start..<slash]
            if first.contains(UInt8(ascii: ".")) || first.contains(UInt8(ascii: ":")) || first.elementsEqual("localhost".utf8) {
                registry = String(Substring(first))
                start = bytes.index(after: slash)
            }
        }
        if let colon = bytes[start..<end].lastIndex(of: UInt8(ascii: ":")), !bytes[colon..<end].contains(UInt8(ascii: "/")) {
            let tag = bytes[bytes.index(after: colon)..<end]
            guard !tag.isEmpty else { return nil }
            self.tag = String(Substring(tag))
            end = colon
        }
        guard start < end else { return nil }
        repository = String(Substring(bytes[start..<end]))
    }

    public var description: String {
        var text = registry.map { $0 + "/" } ?? ""
        text += repository
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest }
        return text
    }

    /// `algorithm:hex`, e.g. `sha256:` and 64 hex digits (shorter hex is accepted: AWS's own
    /// documentation examples carry truncated digests).
    public static func isDigest(_ text: String) -> Bool {
        guard let colon = text.utf8.firstIndex(of: UInt8(ascii: ":")) else { return false }
        let algorithm = text.utf8[..<colon]
        let hex = text.utf8[text.utf8.index(after: colon)...]
        return !algorithm.isEmpty && algorithm.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) }
            && (32...128).contains(hex.count) && hex.allSatisfy(SchemaValidator.isLowerHex)
    }
}
