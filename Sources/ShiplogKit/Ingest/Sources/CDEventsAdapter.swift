/// CDEvents (cdevents.dev, 0.4 and 0.5): `{"context": {id, source, type, timestamp}, "subject":
/// {id, source, content}}`. Read: change merged, pipeline runs and builds, artifacts published,
/// services deployed / upgraded / rolled back / removed, environments, incidents. The id is
/// `context.source` + `context.id`.
public struct CDEventsAdapter: SourceAdapter {
    public let name = "cdevents"

    public init() {}

    public func recognizes(_ document: JSON) -> Bool {
        document.text("context", "type")?.hasPrefix("dev.cdevents.") == true
    }

    public func read(_ document: JSON, context: AdapterContext) throws(AdapterError) -> AdapterOutcome {
        guard let type = document.text("context", "type"), let eventID = document.text("context", "id") else {
            throw AdapterError("context.type and context.id are required")
        }
        guard let time = document.time("context", "timestamp") else { throw AdapterError("context.timestamp: not an RFC 3339 time") }
        let parts = type.split(separator: ".")
        guard parts.count >= 4 else { throw AdapterError("context.type: \(type) is not dev.cdevents.<subject>.<predicate>.<version>") }
        let subjectKind = String(parts[2])
        let predicate = String(parts[3])
        guard let subject = document["subject"], let subjectID = subject.text("id") else {
            throw AdapterError("subject.id: required")
        }
        let content = subject["content"] ?? .null
        let source = document.text("context", "source") ?? subject.text("source") ?? ""
        let id = "cdevents:\(source):\(eventID)"
        var fields = Fields()
        let newType: String
        switch (subjectKind, predicate) {
        case ("change", "merged"):
            newType = "change.merged"
            fields.set("repository", content.text("repository", "id") ?? Self.repository(subject.text("source") ?? source))
            fields.set("change", subjectID)
            fields.set("url", content.text("url") ?? content.text("uri"))
            fields.set("actor", content.text("user"))
        case ("pipelinerun", "started"), ("pipelinerun", "finished"), ("build", "started"), ("build", "finished"):
            newType = predicate == "started" ? "build.started" : "build.completed"
            fields.set("repository", content.text("repository", "id") ?? Self.repository(subject.text("source") ?? source))
            fields.set("runId", subjectID)
            fields.set("workflow", content.text("pipelineName"))
            fields.set("url", content.text("uri") ?? content.text("url"))
            if predicate == "finished" {
                fields.set("conclusion", Self.conclusion(content.text("outcome"), hasArtifact: content["artifactId"] != nil))
            }
        case ("artifact", "published"):
            guard let artifact = PackageURL(subjectID), let digest = artifact.digest else {
                return .ignored("CDEvents artifact \(subjectID) is not a container image with a digest")
            }
            newType = "image.pushed"
            fields.set("repository", artifact.repository)
            fields.set("registry", artifact.registry)
            fields.set("digest", digest)
            fields.set("tags", strings: artifact.tag.map { [$0] } ?? [])
            fields.set("actor", content.text("user"))
        case ("service", "deployed"), ("service", "upgraded"), ("service", "rolledback"):
            newType = "deployment.completed"
            fields.set("cluster", content.text("environment", "id"))
            fields.set("service", subjectID)
            if let artifact = content.text("artifactId").flatMap(PackageURL.init) {
                fields.set("image", artifact.description)
                fields.set("digest", artifact.digest)
            }
            fields.set("trigger", "cdevents service.\(predicate)")
            if predicate == "rolledback" { fields.set("rollback", true) }
            // shiplog's convention: customData may name the ECS task definition and deployment.
            let custom = document["customData"] ?? .null
            fields.set("taskDefinition", custom.text("taskDefinition").flatMap(TaskDefinitionID.init)?.description)
            fields.set("deploymentId", custom.text("deploymentId"))
            guard fields["cluster"] != nil else { throw AdapterError("subject.content.environment.id: required") }
        case ("service", "removed"):
            newType = "service.removed"
            fields.set("cluster", content.text("environment", "id"))
            fields.set("service", subjectID)
            guard fields["cluster"] != nil else { throw AdapterError("subject.content.environment.id: required") }
        case ("environment", "created"), ("environment", "modified"), ("environment", "deleted"):
            newType = "environment.changed"
            fields.set("environment", content.text("name") ?? subjectID)
            fields.set("action", predicate)
            fields.set("url", content.text("uri") ?? content.text("url"))
        case ("incident", "detected"), ("incident", "resolved"), ("incident", "reported"):
            newType = predicate == "resolved" ? "incident.resolved" : "incident.detected"
            fields.set("environment", content.text("environment", "id") ?? "unknown")
            fields.set("incident", subjectID)
            fields.set("service", content.text("service", "id"))
            fields.set("description", content.text("description"))
        default:
            return .ignored("CDEvents \(subjectKind).\(predicate) is not a pipeline change shiplog records")
        }
        return .events([NewEvent(id: id, type: newType, time: time, data: fields.object)])
    }

    /// A repository named by its URL (`https://github.com/owner/name/actions`) → `owner/name`.
    static func repository(_ source: String) -> String {
        guard let scheme = source.byteRange(of: "://") else { return source }
        let path = source[scheme.upperBound...].split(separator: "/").dropFirst()
        return path.count >= 2 ? path.prefix(2).joined(separator: "/") : source
    }

    static func conclusion(_ outcome: String?, hasArtifact: Bool) -> String {
        switch outcome?.lowercased() {
        case "success"?: return "success"
        case "failure"?, "error"?: return "failure"
        case "cancel"?, "cancelled"?, "canceled"?: return "cancelled"
        case nil: return hasArtifact ? "success" : "neutral"
        default: return "neutral"
        }
    }
}

/// A package URL (purl) naming a container image:
/// `pkg:oci/NAME@sha256%3A…?repository_url=REGISTRY/PATH&tag=TAG`.
struct PackageURL: CustomStringConvertible {
    let name: String
    let digest: String?
    let registry: String?
    let repository: String
    let tag: String?

    init?(_ text: String) {
        guard text.hasPrefix("pkg:oci/") || text.hasPrefix("pkg:docker/") else { return nil }
        var rest = Substring(text.drop { $0 != "/" }.dropFirst())
        var query: [String: String] = [:]
        if let mark = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: mark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { query[String(parts[0])] = Self.percentDecoded(parts[1]) }
            }
            rest = rest[..<mark]
        }
        var version: String?
        if let at = rest.firstIndex(of: "@") {
            version = Self.percentDecoded(rest[rest.index(after: at)...])
            rest = rest[..<at]
        }
        guard !rest.isEmpty else { return nil }
        name = Self.percentDecoded(rest)
        digest = version.flatMap { ImageReference.isDigest($0) ? $0 : nil }
        tag = query["tag"] ?? (digest == nil ? version : nil)
        if let location = query["repository_url"], let slash = location.firstIndex(of: "/") {
            registry = String(location[..<slash])
            repository = String(location[location.index(after: slash)...])
        } else {
            registry = query["repository_url"]
            repository = name
        }
    }

    var description: String {
        ImageReference(registry: registry, repository: repository, tag: tag, digest: digest).description
    }

    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), let high = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex),
                let low = utf8.index(index, offsetBy: 2, limitedBy: utf8.endIndex), low < utf8.endIndex,
                let value = UInt8(String(decoding: [utf8[high], utf8[low]], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index = utf8.index(after: low)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
