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
        var text = Substring(text)
        if text.hasPrefix("arn:") {
            guard let slash = text.firstRange(of: ":task-definition/") else { return nil }
            text = text[slash.upperBound...]
        }
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let family = text[..<colon]
        guard let revision = Int(text[text.index(after: colon)...]), revision > 0, !family.isEmpty, family.utf8.count <= 255,
            family.utf8.allSatisfy({ Self.isFamilyByte($0) })
        else { return nil }
        self.family = String(family)
        self.revision = revision
    }

    /// The family from an ARN or name that has no revision (`arn:…:task-definition/family`).
    public static func family(fromARN text: String) -> String? {
        guard let slash = text.firstRange(of: ":task-definition/") else { return nil }
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
        guard !text.isEmpty, !text.contains(" ") else { return nil }
        var rest = Substring(text)
        if let at = rest.firstIndex(of: "@") {
            let digest = String(rest[rest.index(after: at)...])
            guard Self.isDigest(digest) else { return nil }
            self.digest = digest
            rest = rest[..<at]
        }
        // A registry is the first component when it looks like a host (has '.' or ':' or is localhost).
        if let slash = rest.firstIndex(of: "/") {
            let first = rest[..<slash]
            if first.contains(".") || first.contains(":") || first == "localhost" {
                registry = String(first)
                rest = rest[rest.index(after: slash)...]
            }
        }
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let tag = rest[rest.index(after: colon)...]
            guard !tag.isEmpty else { return nil }
            self.tag = String(tag)
            rest = rest[..<colon]
        }
        guard !rest.isEmpty else { return nil }
        repository = String(rest)
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
        guard let colon = text.firstIndex(of: ":") else { return false }
        let algorithm = text[..<colon]
        let hex = text.utf8[text.utf8.index(after: colon)...]
        return !algorithm.isEmpty && algorithm.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) }
            && (32...128).contains(hex.count) && hex.allSatisfy(SchemaValidator.isLowerHex)
    }
}
