/// AWS EventBridge events, as a rule target receives them: the envelope `version, id,
/// detail-type, source, time, region, account, resources, detail`.
///
/// Read: ECR Image Action (push, delete), ECS Task State Change, ECS Service Action, ECS
/// Deployment State Change (including the circuit breaker's rollbacks), ECS Container Instance
/// State Change, EC2 Auto Scaling instance launch/terminate, Application Auto Scaling activity
/// on an ECS service, and "AWS API Call via CloudTrail" (read by the CloudTrail adapter). The
/// envelope `id` is the event id (for CloudTrail calls, the CloudTrail `eventID`, so the same call
/// arriving both ways is one event).
public struct EventBridgeAdapter: SourceAdapter {
    public let name = "eventbridge"

    public init() {}

    public func recognizes(_ document: JSON) -> Bool {
        document["detail-type"] != nil && document["source"] != nil && document["detail"] != nil
    }

    /// Detail types from AWS that are valid but record no pipeline change.
    static let irrelevant: Set<String> = [
        "ECR Image Scan", "ECR Scan Resource Change", "ECR Pull Through Cache Action", "ECR Replication Action",
        "ECR Referrer Action", "EC2 Instance-launch Lifecycle Action", "EC2 Instance-terminate Lifecycle Action",
        "EC2 Auto Scaling Instance Refresh Started", "EC2 Auto Scaling Instance Refresh Succeeded",
        "EC2 Instance State-change Notification",
    ]

    public func read(_ document: JSON, context: AdapterContext) throws(AdapterError) -> AdapterOutcome {
        guard let detailType = document.text("detail-type") else { throw AdapterError("detail-type: required") }
        guard let detail = try document.member("detail") else { throw AdapterError("detail: required") }
        let source = document.text("source") ?? ""
        if detailType == "AWS API Call via CloudTrail" {
            return try CloudTrailAdapter.normalize(detail, envelopeID: document.text("id"))
        }
        guard let envelopeID = document.text("id") else { throw AdapterError("id: required") }
        let id = "aws:eventbridge:" + envelopeID
        let envelopeTime = document.time("time")
        let resources = try document.list("resources").compactMap(\.string)
        switch detailType {
        case "ECR Image Action":
            return try imageAction(detail, id: id, time: envelopeTime, document: document)
        case "ECS Task State Change":
            var fields = try ECSShapes.task(detail)
            if fields["service"] == nil, let group = detail.text("group"), !group.hasPrefix("family:") {
                fields.set("group", group)
            }
            guard let time = ECSShapes.taskTime(detail) ?? envelopeTime else { throw AdapterError("no time for the task state") }
            return .events([NewEvent(id: id, type: "task.state", time: time, data: fields.object)])
        case "ECS Deployment State Change":
            return try deploymentStateChange(detail, id: id, time: envelopeTime, resources: resources)
        case "ECS Service Action":
            return try serviceAction(detail, id: id, time: envelopeTime, resources: resources)
        case "ECS Container Instance State Change":
            var fields = Fields()
            guard let cluster = AWSNames.cluster(detail.text("clusterArn")) else { throw AdapterError("detail.clusterArn: required") }
            fields.set("cluster", cluster)
            fields.set("containerInstanceArn", detail.text("containerInstanceArn"))
            fields.set("instanceId", detail.text("ec2InstanceId"))
            fields.set("status", detail.text("status"))
            fields.set("agentConnected", detail["agentConnected"]?.bool)
            guard let time = detail.time("updatedAt") ?? envelopeTime else { throw AdapterError("time: not an RFC 3339 time") }
            return .events([NewEvent(id: id, type: "container_instance.state", time: time, data: fields.object)])
        case "EC2 Instance Launch Successful", "EC2 Instance Launch Unsuccessful",
            "EC2 Instance Terminate Successful", "EC2 Instance Terminate Unsuccessful":
            return try autoScaling(detailType, detail, id: id, time: envelopeTime)
        case "Application Auto Scaling Scaling Activity State Change":
            return try applicationAutoScaling(detail, id: id, time: envelopeTime)
        default:
            if Self.irrelevant.contains(detailType) {
                return .ignored("EventBridge \"\(detailType)\" events are not pipeline changes shiplog records")
            }
            throw AdapterError("unknown EventBridge detail-type \"\(detailType)\" from \(source.isEmpty ? "an unknown source" : source)")
        }
    }

    private func imageAction(_ detail: JSON, id: String, time: Timestamp?, document: JSON) throws(AdapterError) -> AdapterOutcome {
        guard let time else { throw AdapterError("time: not an RFC 3339 time") }
        guard let repository = detail.text("repository-name") else { throw AdapterError("detail.repository-name: required") }
        let action = detail.text("action-type") ?? ""
        guard detail.text("result") == "SUCCESS" else {
            return .ignored("ECR \(action) with result \(detail.text("result") ?? "unknown") changed nothing")
        }
        var fields = Fields()
        fields.set("repository", repository)
        fields.set("registry", AWSNames.ecrRegistry(account: document.text("account"), region: document.text("region")))
        let digest = detail.text("image-digest")
        if let digest, !ImageReference.isDigest(digest) { throw AdapterError("detail.image-digest: \"\(digest)\" is not an image digest") }
        fields.set("digest", digest)
        fields.set("tags", strings: detail.text("image-tag").map { [$0] } ?? [])
        fields.set("mediaType", detail.text("manifest-media-type"))
        switch action {
        case "PUSH":
            guard digest != nil else { throw AdapterError("detail.image-digest: required for a push") }
            return .events([NewEvent(id: id, type: "image.pushed", time: time, data: fields.object)])
        case "DELETE":
            return .events([NewEvent(id: id, type: "image.deleted", time: time, data: fields.object)])
        default:
            return .ignored("ECR image action \(action) is not a push or a delete")
        }
    }

    private func deploymentStateChange(_ detail: JSON, id: String, time: Timestamp?, resources: [String]) throws(AdapterError) -> AdapterOutcome {
        guard let name = detail.text("eventName"), let deploymentID = detail.text("deploymentId") else {
            throw AdapterError("detail.eventName and detail.deploymentId are required")
        }
        guard let placement = resources.lazy.compactMap(AWSNames.service).first, let cluster = placement.cluster else {
            throw AdapterError("resources: needs the service ARN (…:service/CLUSTER/SERVICE)")
        }
        let type: String
        switch name {
        case "SERVICE_DEPLOYMENT_IN_PROGRESS": type = "deployment.started"
        case "SERVICE_DEPLOYMENT_COMPLETED": type = "deployment.completed"
        case "SERVICE_DEPLOYMENT_FAILED": type = "deployment.failed"
        default: return .ignored("ECS deployment event \(name) is not a deployment state")
        }
        var fields = Fields()
        fields.set("cluster", cluster)
        fields.set("service", placement.service)
        fields.set("deploymentId", deploymentID)
        let reason = detail.text("reason")
        fields.set("reason", reason)
        if let target = reason.flatMap(Self.rollbackTarget) {
            fields.set("rollback", true)
            fields.set("rollbackTo", target)
            if reason?.containsBytes("circuit breaker") == true {
                // ECS itself started this deployment; the name matches CloudTrail's AWSService actors.
                fields.set("actor", "ecs.amazonaws.com")
                fields.set("trigger", "circuit-breaker")
            }
        }
        guard let when = detail.time("updatedAt") ?? time else { throw AdapterError("no time for the deployment state") }
        return .events([NewEvent(id: id, type: type, time: when, data: fields.object)])
    }

    /// "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/123." → ecs-svc/123.
    static func rollbackTarget(_ reason: String) -> String? {
        guard let marker = reason.byteRange(of: "rolling back to deploymentId ") else { return nil }
        let rest = reason[marker.upperBound...].prefix { $0 != " " && $0 != "," }
        let target = rest.hasSuffix(".") ? rest.dropLast() : rest
        return target.isEmpty ? nil : String(target)
    }

    private func serviceAction(_ detail: JSON, id: String, time: Timestamp?, resources: [String]) throws(AdapterError) -> AdapterOutcome {
        guard let name = detail.text("eventName") else { throw AdapterError("detail.eventName: required") }
        guard let placement = resources.lazy.compactMap(AWSNames.service).first else {
            return .ignored("ECS service action \(name) is not about a service (resources: \(resources.first ?? "none"))")
        }
        guard let cluster = placement.cluster ?? AWSNames.cluster(detail.text("clusterArn")) else {
            throw AdapterError("detail.clusterArn: required")
        }
        var fields = Fields()
        fields.set("cluster", cluster)
        fields.set("service", placement.service)
        fields.set("eventName", name)
        fields.set("eventType", detail.text("eventType"))
        fields.set("reason", detail.text("reason"))
        fields.set("capacityProvider", detail["capacityProviderArns"]?[0]?.string)
        guard let when = detail.time("createdAt") ?? time else { throw AdapterError("no time for the service action") }
        return .events([NewEvent(id: id, type: "service.event", time: when, data: fields.object)])
    }

    private func autoScaling(_ detailType: String, _ detail: JSON, id: String, time: Timestamp?) throws(AdapterError) -> AdapterOutcome {
        guard let group = detail.text("AutoScalingGroupName") else { throw AdapterError("detail.AutoScalingGroupName: required") }
        guard let when = detail.time("EndTime") ?? detail.time("StartTime") ?? time else {
            throw AdapterError("no time: EndTime, StartTime and time are not RFC 3339 times (\(detail.text("EndTime") ?? "missing"))")
        }
        var fields = Fields()
        fields.set("autoScalingGroup", group)
        fields.set("instanceId", detail.text("EC2InstanceId"))
        fields.set("status", detailType.hasSuffix("Unsuccessful") ? "Failed" : "Successful")
        fields.set("cause", detail.text("Cause") ?? detail.text("StatusMessage"))
        let type = detailType.contains("Launch") ? "instance.launched" : "instance.terminated"
        return .events([NewEvent(id: id, type: type, time: when, data: fields.object)])
    }

    private func applicationAutoScaling(_ detail: JSON, id: String, time: Timestamp?) throws(AdapterError) -> AdapterOutcome {
        guard detail.text("serviceNamespace") == "ecs", detail.text("scalableDimension") == "ecs:service:DesiredCount" else {
            return .ignored("Application Auto Scaling activity on \(detail.text("resourceId") ?? "a resource") is not an ECS service")
        }
        let parts = (detail.text("resourceId") ?? "").split(separator: "/")
        guard parts.count == 3, parts[0] == "service", let desired = detail.integer("newDesiredCapacity") else {
            throw AdapterError("detail.resourceId (service/CLUSTER/SERVICE) and newDesiredCapacity are required")
        }
        var fields = Fields()
        fields.set("cluster", String(parts[1]))
        fields.set("service", String(parts[2]))
        fields.set("desiredCount", desired)
        fields.set("previousDesiredCount", detail.integer("oldDesiredCapacity"))
        fields.set("status", detail.text("statusCode"))
        fields.set("cause", detail.text("direction").map { "Application Auto Scaling \($0)" })
        fields.set("actor", "application-autoscaling")
        guard let when = detail.time("endTime") ?? detail.time("startTime") ?? time else { throw AdapterError("no time for the activity") }
        return .events([NewEvent(id: id, type: "service.scaled", time: when, data: fields.object)])
    }
}
