/// CloudTrail records of the ECS and ECR calls that change a pipeline: RegisterTaskDefinition,
/// DeregisterTaskDefinition, CreateService, UpdateService, DeleteService, PutImage,
/// BatchDeleteImage, and ECR lifecycle expiries. This is where "who deployed" comes from in AWS:
/// the actor is the record's `userIdentity`.
///
/// A record arrives raw (from a CloudTrail log file, `{"Records": [...]}`, which the reader splits)
/// or as the `detail` of an EventBridge "AWS API Call via CloudTrail" event. Its `eventID` is the
/// event id either way. Read-only calls and other services' calls are ignored; a refused call
/// (`errorCode`) becomes `api.call_failed`, so an audit shows attempts too.
public struct CloudTrailAdapter: SourceAdapter {
    public let name = "cloudtrail"

    public init() {}

    public func recognizes(_ document: JSON) -> Bool {
        document["eventSource"] != nil && document["eventName"] != nil && document["eventVersion"] != nil
            || document.object?.count == 1 && document["Records"]?.array?.isEmpty == true
    }

    public func read(_ document: JSON, context: AdapterContext) throws(AdapterError) -> AdapterOutcome {
        if document["Records"] != nil { return .ignored("a CloudTrail log file with no records") }
        return try Self.normalize(document, envelopeID: nil)
    }

    static let changes: Set<String> = [
        "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs:CreateService", "ecs:UpdateService",
        "ecs:DeleteService", "ecr:PutImage", "ecr:BatchDeleteImage", "ecr:PolicyExecutionEvent",
    ]

    static func normalize(_ record: JSON, envelopeID: String?) throws(AdapterError) -> AdapterOutcome {
        guard let source = record.text("eventSource"), let name = record.text("eventName") else {
            throw AdapterError("eventSource and eventName are required")
        }
        let service = source.split(separator: ".").first.map(String.init) ?? source
        let api = "\(service):\(name)"
        guard changes.contains(api) else {
            let readOnly = record["readOnly"]?.bool == true || ["Describe", "List", "Get", "BatchGet"].contains { name.hasPrefix($0) }
            return .ignored("CloudTrail \(api) \(readOnly ? "is a read-only call" : "is not a pipeline change shiplog records")")
        }
        guard let eventID = record.text("eventID") ?? envelopeID else { throw AdapterError("eventID: required") }
        guard let time = record.time("eventTime") else { throw AdapterError("eventTime: not an RFC 3339 time") }
        let id = "aws:cloudtrail:" + eventID
        let actor = Self.actor(record["userIdentity"])
        let request = record["requestParameters"] ?? .null
        let response = record["responseElements"] ?? .null

        if let errorCode = record.text("errorCode") {
            var fields = Fields()
            fields.set("api", api)
            fields.set("errorCode", errorCode)
            fields.set("errorMessage", record.text("errorMessage"))
            fields.set("actor", actor)
            fields.set("account", record.text("recipientAccountId") ?? record.text("userIdentity", "accountId"))
            if let placement = AWSNames.service(request.text("service")) {
                fields.set("cluster", placement.cluster ?? AWSNames.cluster(request.text("cluster")) ?? "default")
                fields.set("service", placement.service)
            } else if let family = request.text("family") ?? request.text("taskDefinition").flatMap(TaskDefinitionID.init)?.family {
                fields.set("family", family)
            }
            return .events([NewEvent(id: id, type: "api.call_failed", time: time, data: fields.object)])
        }

        switch api {
        case "ecs:RegisterTaskDefinition":
            guard let definition = response["taskDefinition"], definition.object != nil else {
                throw AdapterError("responseElements.taskDefinition: required for RegisterTaskDefinition")
            }
            var fields = try ECSShapes.taskDefinition(definition)
            fields.set("actor", actor)
            fields.set("status", fields["status"]?.string ?? "ACTIVE")
            return .events([NewEvent(id: id, type: "taskdef.registered", time: time, data: fields.object)])
        case "ecs:DeregisterTaskDefinition":
            let reference = response.text("taskDefinition", "taskDefinitionArn") ?? request.text("taskDefinition")
            guard let revision = reference.flatMap(TaskDefinitionID.init) else {
                throw AdapterError("requestParameters.taskDefinition: not family:revision")
            }
            var fields = Fields()
            fields.set("family", revision.family)
            fields.set("revision", revision.revision)
            fields.set("taskDefinition", revision.description)
            fields.set("actor", actor)
            return .events([NewEvent(id: id, type: "taskdef.deregistered", time: time, data: fields.object)])
        case "ecs:CreateService", "ecs:UpdateService":
            return try serviceChange(name, request: request, response: response, id: id, time: time, actor: actor)
        case "ecs:DeleteService":
            guard let placement = AWSNames.service(response.text("service", "serviceArn") ?? request.text("service")) else {
                throw AdapterError("requestParameters.service: required")
            }
            var fields = Fields()
            fields.set("cluster", placement.cluster ?? AWSNames.cluster(request.text("cluster")) ?? "default")
            fields.set("service", placement.service)
            fields.set("actor", actor)
            return .events([NewEvent(id: id, type: "service.removed", time: time, data: fields.object)])
        case "ecr:PutImage":
            let image = response["image"] ?? .null
            guard let repository = image.text("repositoryName") ?? request.text("repositoryName"),
                let digest = image.text("imageId", "imageDigest"), ImageReference.isDigest(digest)
            else { throw AdapterError("responseElements.image: repositoryName and imageId.imageDigest are required") }
            var fields = Fields()
            fields.set("repository", repository)
            fields.set("registry", AWSNames.ecrRegistry(
                account: image.text("registryId") ?? record.text("recipientAccountId"), region: record.text("awsRegion")))
            fields.set("digest", digest)
            fields.set("tags", strings: (image.text("imageId", "imageTag") ?? request.text("imageTag")).map { [$0] } ?? [])
            fields.set("mediaType", image.text("imageManifestMediaType"))
            fields.set("actor", actor)
            return .events([NewEvent(id: id, type: "image.pushed", time: time, data: fields.object)])
        case "ecr:BatchDeleteImage":
            guard let repository = request.text("repositoryName") else { throw AdapterError("requestParameters.repositoryName: required") }
            let deleted = response["imageIds"]?.array ?? request["imageIds"]?.array ?? []
            let events = deleted.enumerated().map { index, image in
                var fields = Fields()
                fields.set("repository", repository)
                fields.set("digest", image.text("imageDigest"))
                fields.set("tags", strings: image.text("imageTag").map { [$0] } ?? [])
                fields.set("actor", actor)
                return NewEvent(id: "\(id)#\(index + 1)", type: "image.deleted", time: time, data: fields.object)
            }
            return events.isEmpty ? .ignored("ECR BatchDeleteImage deleted nothing") : .events(events)
        case "ecr:PolicyExecutionEvent":
            return try lifecycleExpiry(record, id: id, time: time)
        default:
            return .ignored("CloudTrail \(api) is not a pipeline change shiplog records")
        }
    }

    /// CreateService and UpdateService: a new deployment when the task definition changes (or a
    /// new deployment is forced), a scaling when the desired count is set; one call can do both.
    private static func serviceChange(
        _ name: String, request: JSON, response: JSON, id: String, time: Timestamp, actor: String?
    ) throws(AdapterError) -> AdapterOutcome {
        let serviceObject = response["service"] ?? .null
        let placement = AWSNames.service(serviceObject.text("serviceArn"))
        guard let service = serviceObject.text("serviceName") ?? placement?.service ?? request.text("serviceName")
            ?? AWSNames.service(request.text("service"))?.service
        else { throw AdapterError("the service name is missing from requestParameters and responseElements") }
        let cluster = AWSNames.cluster(serviceObject.text("clusterArn")) ?? placement?.cluster
            ?? AWSNames.cluster(request.text("cluster")) ?? "default"
        var events: [NewEvent] = []
        let deploys = name == "CreateService" || request["taskDefinition"] != nil
            || request["forceNewDeployment"]?.bool == true
        if deploys {
            let primary = serviceObject["deployments"]?.array?.first { $0.text("status") == "PRIMARY" }
            let taskDefinition = (primary?.text("taskDefinition") ?? serviceObject.text("taskDefinition")
                ?? request.text("taskDefinition")).flatMap(TaskDefinitionID.init)
            var fields = Fields()
            fields.set("cluster", cluster)
            fields.set("service", service)
            fields.set("taskDefinition", taskDefinition?.description)
            fields.set("deploymentId", primary?.text("id"))
            fields.set("desiredCount", serviceObject.integer("desiredCount") ?? request.integer("desiredCount"))
            fields.set("actor", actor)
            fields.set("trigger", name)
            events.append(NewEvent(id: id, type: "deployment.started", time: time, data: fields.object))
        }
        if name == "UpdateService", let desired = request.integer("desiredCount") {
            var fields = Fields()
            fields.set("cluster", cluster)
            fields.set("service", service)
            fields.set("desiredCount", desired)
            fields.set("runningCount", serviceObject.integer("runningCount"))
            fields.set("actor", actor)
            fields.set("cause", "UpdateService")
            events.append(NewEvent(id: deploys ? id + "#scale" : id, type: "service.scaled", time: time, data: fields.object))
        }
        guard !events.isEmpty else {
            return .ignored("CloudTrail UpdateService changed neither the task definition nor the desired count")
        }
        return .events(events)
    }

    /// An ECR lifecycle policy expiring images: one `image.deleted` per image.
    private static func lifecycleExpiry(_ record: JSON, id: String, time: Timestamp) throws(AdapterError) -> AdapterOutcome {
        let details = record["serviceEventDetails"] ?? .null
        guard let repository = details.text("repositoryName") else {
            throw AdapterError("serviceEventDetails.repositoryName: required")
        }
        var events: [NewEvent] = []
        for (index, action) in (details["lifecycleEventImageActions"]?.array ?? []).enumerated() {
            let image = action["lifecycleEventImage"] ?? .null
            var fields = Fields()
            fields.set("repository", repository)
            fields.set("digest", image.text("digest"))
            fields.set("tags", strings: image["tagList"]?.array?.compactMap(\.string) ?? [])
            fields.set("actor", "ecr-lifecycle-policy")
            events.append(NewEvent(id: "\(id)#\(index + 1)", type: "image.deleted", time: time, data: fields.object))
        }
        guard !events.isEmpty else { return .ignored("ECR lifecycle policy event expired no image") }
        return .events(events)
    }

    /// Who made the call: the principal's ARN (an IAM user, an assumed role session), or the
    /// AWS service that made it on someone's behalf.
    static func actor(_ identity: JSON?) -> String? {
        guard let identity else { return nil }
        switch identity.text("type") {
        case "AWSService": return identity.text("invokedBy")
        case "Root": return identity.text("arn") ?? "root"
        default: return identity.text("arn") ?? identity.text("principalId") ?? identity.text("invokedBy")
        }
    }
}
