/// Builds an event's data object, leaving out what the source did not say.
struct Fields {
    var object = JSONObject()

    subscript(key: String) -> JSON? {
        get { object[key] }
        set {
            switch newValue {
            case nil, .null?: object[key] = nil
            case .string(let text)? where text.isEmpty: object[key] = nil
            case .array(let items)? where items.isEmpty: object[key] = nil
            default: object[key] = newValue
            }
        }
    }

    mutating func set(_ key: String, _ value: String?) { self[key] = value.map(JSON.string) }
    mutating func set(_ key: String, _ value: Int64?) { self[key] = value.map { .number(String($0)) } }
    mutating func set(_ key: String, _ value: Int?) { self[key] = value.map { .number(String($0)) } }
    mutating func set(_ key: String, _ value: Bool?) { self[key] = value.map(JSON.bool) }
    mutating func set(_ key: String, _ value: Timestamp?) { self[key] = value.map { .string($0.rfc3339) } }
    mutating func set(_ key: String, strings: [String]) { self[key] = .array(strings.map(JSON.string)) }
}

extension JSON {
    /// The value at a path of member names.
    func at(_ path: String...) -> JSON? {
        var node: JSON? = self
        for key in path { node = node?[key] }
        return node
    }

    /// A non-empty string (or a number's text) at a path.
    func text(_ path: String...) -> String? {
        var node: JSON? = self
        for key in path { node = node?[key] }
        guard let value = node?.scalarText, !value.isEmpty else { return nil }
        return value
    }

    /// An integer at a path, given as a number or as a string of digits (ECS prints cpu as "1024").
    func integer(_ path: String...) -> Int64? {
        var node: JSON? = self
        for key in path { node = node?[key] }
        return node?.int
    }

    /// The array at `key`: empty when absent or null, an error when it is something else.
    func list(_ key: String, in context: String = "") throws(AdapterError) -> [JSON] {
        switch self[key] {
        case nil, .null?: return []
        case .array(let items)?: return items
        case let other?: throw AdapterError("\(context)\(key): expected an array, found \(other.kindName)")
        }
    }

    /// The object at `key`, or nil when absent or null; an error when it is something else.
    func member(_ key: String, in context: String = "") throws(AdapterError) -> JSON? {
        switch self[key] {
        case nil, .null?: return nil
        case .object?: return self[key]
        case let other?: throw AdapterError("\(context)\(key): expected an object, found \(other.kindName)")
        }
    }

    /// The longest string anywhere in the value, in characters.
    var longestString: Int {
        switch self {
        case .string(let text): return text.utf8.count
        case .array(let items): return items.map(\.longestString).max() ?? 0
        case .object(let object): return object.members.map { max($0.key.utf8.count, $0.value.longestString) }.max() ?? 0
        default: return 0
        }
    }

    /// A time as the sources print it: ISO 8601 text, epoch seconds (with a fraction) or
    /// milliseconds as a number or a string, or CloudTrail's `Mar 2, 2026, 1:04:05 AM`.
    var timestamp: Timestamp? {
        switch self {
        case .number(let text): return Timestamp(epoch: text)
        case .string(let text):
            return Timestamp(iso8601: text) ?? Timestamp(epoch: text) ?? Timestamp(humanAWS: text)
        default: return nil
        }
    }

    func time(_ path: String...) -> Timestamp? {
        var node: JSON? = self
        for key in path { node = node?[key] }
        return node?.timestamp
    }
}

extension Timestamp {
    /// The `MMM d, yyyy, h:mm:ss a` form some AWS consoles and CloudTrail records print, read as UTC.
    init?(humanAWS text: String) {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let words = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        guard words.count >= 4, let month = months.firstIndex(of: String(words[0].prefix(3))), let day = Int(words[1]),
            let year = Int(words[2])
        else { return nil }
        let clock = words[3].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3, (1...31).contains(day), clock[0] <= 23, clock[1] < 60, clock[2] < 60 else { return nil }
        var hour = clock[0]
        if words.count >= 5 {
            let marker = words[4].uppercased()
            guard hour >= 1 && hour <= 12, marker == "AM" || marker == "PM" else { return nil }
            hour = hour % 12 + (marker == "PM" ? 12 : 0)
        }
        self = Timestamp.utc(year: year, month: month + 1, day: day, hour: hour, minute: clock[1], second: clock[2])
    }
}

/// Names and ids inside AWS ARNs.
enum AWSNames {
    /// `arn:aws:ecs:region:account:cluster/NAME` → NAME; a bare name stays as it is.
    static func cluster(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        guard text.hasPrefix("arn:") else { return text }
        guard let slash = text.byteRange(of: ":cluster/") else { return nil }
        return String(text[slash.upperBound...])
    }

    /// A service ARN: `…:service/CLUSTER/NAME` (or the older `…:service/NAME`) → (cluster, name).
    static func service(_ text: String?) -> (cluster: String?, service: String)? {
        guard let text, !text.isEmpty else { return nil }
        guard text.hasPrefix("arn:") else { return (nil, text) }
        guard let slash = text.byteRange(of: ":service/") else { return nil }
        let parts = text[slash.upperBound...].split(separator: "/")
        if parts.count >= 2 { return (String(parts[0]), String(parts[1])) }
        return parts.first.map { (nil, String($0)) }
    }

    /// `service:NAME` (an ECS task group) → NAME.
    static func serviceFromGroup(_ group: String?) -> String? {
        guard let group, group.hasPrefix("service:") else { return nil }
        return String(group.dropFirst("service:".count))
    }

    /// The account and region of an ARN.
    static func accountAndRegion(_ arn: String?) -> (account: String, region: String)? {
        guard let arn else { return nil }
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 6, parts[0] == "arn" else { return nil }
        return (String(parts[4]), String(parts[3]))
    }

    static func ecrRegistry(account: String?, region: String?) -> String? {
        guard let account, !account.isEmpty else { return nil }
        guard let region, !region.isEmpty else { return account }
        return "\(account).dkr.ecr.\(region).amazonaws.com"
    }
}

/// The normalized fields of ECS objects as the AWS APIs return them. The same shapes arrive
/// in CloudTrail responses, EventBridge details and AWS CLI output.
enum ECSShapes {
    /// A task definition (`describe-task-definition`'s `taskDefinition`, CloudTrail's response).
    static func taskDefinition(_ definition: JSON) throws(AdapterError) -> Fields {
        var fields = Fields()
        let arn = definition.text("taskDefinitionArn")
        let family = definition.text("family") ?? arn.flatMap(TaskDefinitionID.init)?.family
        let revision = definition.integer("revision") ?? arn.flatMap(TaskDefinitionID.init).map { Int64($0.revision) }
        guard let family, let revision, revision > 0 else {
            throw AdapterError("taskDefinition: needs family and revision (or taskDefinitionArn)")
        }
        fields.set("family", family)
        fields.set("revision", revision)
        fields.set("taskDefinition", "\(family):\(revision)")
        fields.set("arn", arn)
        fields.set("status", definition.text("status"))
        fields.set("cpu", definition.integer("cpu"))
        fields.set("memory", definition.integer("memory"))
        fields.set("networkMode", definition.text("networkMode"))
        fields.set("compatibilities", strings: (definition["requiresCompatibilities"] ?? definition["compatibilities"])?
            .array?.compactMap(\.string) ?? [])
        fields.set("taskRoleArn", definition.text("taskRoleArn"))
        fields.set("executionRoleArn", definition.text("executionRoleArn"))
        fields.set("registeredAt", definition.time("registeredAt"))
        fields.set("deregisteredAt", definition.time("deregisteredAt"))
        if let by = definition.text("registeredBy") { fields.set("actor", by) }
        fields["containers"] = .array(try definition.list("containerDefinitions", in: "taskDefinition.").map { .object(container($0).object) })
        return fields
    }

    /// A container definition: image reference, sizes, the *names* of its environment variables,
    /// and its secret references.
    static func container(_ definition: JSON) -> Fields {
        var fields = Fields()
        fields.set("name", definition.text("name") ?? "")
        if let image = definition.text("image") {
            fields.set("image", image)
            if let reference = ImageReference(image) {
                fields.set("repository", reference.repository)
                fields.set("tag", reference.tag)
                fields.set("digest", reference.digest)
            }
        }
        fields.set("cpu", definition.integer("cpu"))
        fields.set("memory", definition.integer("memory"))
        fields.set("memoryReservation", definition.integer("memoryReservation"))
        fields.set("essential", definition["essential"]?.bool)
        let environment = definition["environment"]?.array ?? []
        fields.set("envKeys", strings: environment.compactMap { $0.text("name") }.sorted())
        let secrets = (definition["secrets"]?.array ?? []).compactMap { secret -> JSON? in
            guard let name = secret.text("name"), let from = secret.text("valueFrom") else { return nil }
            return ["name": .string(name), "valueFrom": .string(from)]
        }
        fields["secrets"] = .array(secrets)
        return fields
    }

    /// A task (EventBridge "ECS Task State Change" detail, `describe-tasks` entry).
    static func task(_ task: JSON) throws(AdapterError) -> Fields {
        var fields = Fields()
        guard let cluster = AWSNames.cluster(task.text("clusterArn")) else { throw AdapterError("clusterArn: required") }
        guard let taskArn = task.text("taskArn") else { throw AdapterError("taskArn: required") }
        fields.set("cluster", cluster)
        fields.set("service", AWSNames.serviceFromGroup(task.text("group")))
        fields.set("taskArn", taskArn)
        fields.set("taskDefinition", task.text("taskDefinitionArn").flatMap(TaskDefinitionID.init)?.description)
        if let startedBy = task.text("startedBy"), startedBy.hasPrefix("ecs-svc/") { fields.set("deploymentId", startedBy) }
        fields.set("group", task.text("group"))
        fields.set("lastStatus", task.text("lastStatus") ?? "UNKNOWN")
        fields.set("desiredStatus", task.text("desiredStatus"))
        fields.set("stoppedReason", task.text("stoppedReason"))
        fields.set("stopCode", task.text("stopCode"))
        fields.set("launchType", task.text("launchType"))
        fields.set("containerInstanceArn", task.text("containerInstanceArn"))
        let containers = try task.list("containers").map { container -> JSON in
            var entry = Fields()
            entry.set("name", container.text("name") ?? "")
            if let image = container.text("image") {
                entry.set("image", image)
                if let reference = ImageReference(image) {
                    entry.set("repository", reference.repository)
                    entry.set("tag", reference.tag)
                }
            }
            if let digest = container.text("imageDigest"), ImageReference.isDigest(digest) { entry.set("digest", digest) }
            entry.set("lastStatus", container.text("lastStatus"))
            entry.set("exitCode", container.integer("exitCode"))
            entry.set("reason", container.text("reason"))
            return .object(entry.object)
        }
        fields["containers"] = .array(containers)
        return fields
    }

    /// The time a task's state is as of: when it last changed.
    static func taskTime(_ task: JSON) -> Timestamp? {
        task.time("updatedAt") ?? task.time("stoppedAt") ?? task.time("executionStoppedAt") ?? task.time("startedAt")
            ?? task.time("pullStartedAt") ?? task.time("createdAt")
    }

    /// One entry of a service's `deployments` array.
    static func deployment(_ deployment: JSON) -> JSON? {
        guard let id = deployment.text("id"),
            let taskDefinition = deployment.text("taskDefinition").flatMap(TaskDefinitionID.init)
        else { return nil }
        var fields = Fields()
        fields.set("id", id)
        fields.set("status", deployment.text("status"))
        fields.set("taskDefinition", taskDefinition.description)
        fields.set("rolloutState", deployment.text("rolloutState"))
        fields.set("rolloutStateReason", deployment.text("rolloutStateReason"))
        fields.set("desiredCount", deployment.integer("desiredCount"))
        fields.set("runningCount", deployment.integer("runningCount"))
        fields.set("pendingCount", deployment.integer("pendingCount"))
        fields.set("failedTasks", deployment.integer("failedTasks"))
        fields.set("createdAt", deployment.time("createdAt"))
        fields.set("updatedAt", deployment.time("updatedAt"))
        return .object(fields.object)
    }

    /// A service as `describe-services` / `update-service` print it.
    static func service(_ service: JSON, clusterHint: String? = nil) throws(AdapterError) -> (fields: Fields, time: Timestamp?) {
        var fields = Fields()
        let fromARN = AWSNames.service(service.text("serviceArn"))
        guard let name = service.text("serviceName") ?? fromARN?.service else { throw AdapterError("serviceName: required") }
        guard let cluster = AWSNames.cluster(service.text("clusterArn")) ?? fromARN?.cluster ?? clusterHint else {
            throw AdapterError("clusterArn: required to place service \(name)")
        }
        fields.set("cluster", cluster)
        fields.set("service", name)
        fields.set("status", service.text("status"))
        fields.set("taskDefinition", service.text("taskDefinition").flatMap(TaskDefinitionID.init)?.description)
        fields.set("desiredCount", service.integer("desiredCount"))
        fields.set("runningCount", service.integer("runningCount"))
        fields.set("pendingCount", service.integer("pendingCount"))
        fields.set("launchType", service.text("launchType"))
        let deployments = try service.list("deployments").compactMap(Self.deployment)
        fields["deployments"] = .array(deployments)
        let times = deployments.compactMap { $0.time("updatedAt") } + deployments.compactMap { $0.time("createdAt") }
            + [service.time("createdAt")].compactMap { $0 }
        return (fields, times.max())
    }
}

/// Content-derived ids, for sources whose documents carry none (AWS CLI snapshots, bare
/// webhook payloads): the same content always gets the same id, so ingesting it again is a
/// duplicate.
enum ContentID {
    static func of(_ prefix: String, _ fields: JSONObject, extra: String = "") -> String {
        let digest = SHA256Digest.of(Array((JSONWriter.canonical(.object(fields)) + extra).utf8))
        return prefix + ":" + Hex.encode(Array(digest.prefix(12)))
    }
}
