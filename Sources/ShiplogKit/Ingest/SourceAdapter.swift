/// Why a document was not accepted by the adapter that read it.
public struct AdapterError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// What an adapter knows besides the document itself.
public struct AdapterContext: Sendable {
    /// SHA-256 (hex) of the document's (redacted) bytes: the basis of content-derived ids.
    public let documentSHA256: String
    /// When shiplog received it; used only where a source gives no time at all.
    public let receivedAt: Timestamp

    public init(documentSHA256: String, receivedAt: Timestamp) {
        self.documentSHA256 = documentSHA256
        self.receivedAt = receivedAt
    }
}

/// What an adapter makes of a document it recognizes.
public enum AdapterOutcome: Sendable {
    /// The normalized events (at least one).
    case events([NewEvent])
    /// A valid document of this source that records no pipeline change (a read-only API call,
    /// an image scan): counted and reported, not stored.
    case ignored(String)
}

/// Turns one kind of source document into normalized events. One file per source: adding a
/// source is adding an adapter and listing it in `SourceRegistry`.
public protocol SourceAdapter: Sendable {
    /// The name `--source` takes and that stored documents carry.
    var name: String { get }
    /// A cheap structural test: does this document look like one this adapter reads?
    func recognizes(_ document: JSON) -> Bool
    /// What the document yields. Throws when the document is of this kind but invalid.
    func read(_ document: JSON, context: AdapterContext) throws(AdapterError) -> AdapterOutcome
}

/// The adapters shiplog knows, in the order detection tries them.
public enum SourceRegistry {
    public static let all: [any SourceAdapter] = [
        NativeAdapter(),
        GitHubAdapter(),
        EventBridgeAdapter(),
        CloudTrailAdapter(),
        AWSCLIAdapter(),
        CDEventsAdapter(),
    ]

    public static var names: [String] { all.map(\.name) }

    public static func adapter(named name: String) -> (any SourceAdapter)? {
        all.first { $0.name == name }
    }

    /// The adapter that recognizes the document, or nil when none does.
    public static func detect(_ document: JSON) -> (any SourceAdapter)? {
        all.first { $0.recognizes(document) }
    }
}

extension JSON {
    /// A required string member, or an adapter error naming it.
    func requiredString(_ key: String, in context: String = "") throws(AdapterError) -> String {
        guard let value = self[key] else { throw AdapterError("\(context)\(key): required") }
        guard let text = value.string else {
            throw AdapterError("\(context)\(key): expected a string, found \(value.kindName)")
        }
        return text
    }
}
