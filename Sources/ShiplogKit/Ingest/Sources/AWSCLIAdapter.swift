/// AWS CLI output (`--output json`): ECS task definitions, services, tasks and task-definition
/// lists; ECR image listings and pushes; scaling activities.
///
/// These are snapshots: they say what was observed, so they become `*.observed` events (or the
/// change they report). Their ids are derived from their content, so ingesting the same snapshot
/// twice adds nothing. Where the output carries no time at all (`list-task-definitions`,
/// `put-image`), the event time is when shiplog received it, and `timeSource: "received"` says so.
public struct AWSCLIAdapter: SourceAdapter {
    public let name = "awscli"

    public init() {}

    static let shapes: Set<String> = [
        "taskDefinition", "services", "service", "taskDefinitionArns", "imageDetails", "image", "images", "tasks",
        "ScalingActivities", "Activities", "cluster", "repository", "serviceDeployments", "serviceRevisions",
        "task", "containerInstance", "taskArns",
    ]

    public func recognizes(_ document: JSON) -> Bool {
        guard let object = document.object else { return false }
        return object.members.contains { Self.shapes.contains($0.key) } && document["detail-type"] == nil
            && document["shiplog"] == nil && document["eventVersion"] == nil && document["sender"] == nil
    }

    public func read(_ document: JSON, context: AdapterContext) throws(AdapterError) -> AdapterOutcome {
        switch try snapshot(document, context: context) {
        case .events(var events):
            for index in events.indices where events[index].data["timeSource"] == "received" {
                events[index].timeFromReceipt = true
            }
            return .events(events)
        case let other:
            return other
        }
    }

    private func snapshot(_ document: JSON, context: AdapterContext) throws(AdapterError) -> AdapterOutcome {
        if let definition = document["taskDefinition"], definition.object != nil {
            return .events([try taskDefinition(definition, context: context)])
        }
        if let services = document["services"]?.array {
            let events = try services.map { (service) throws(AdapterError) -> NewEvent in try self.service(service, context: context) }
            if events.isEmpty {
                let reasons = (document["failures"]?.array ?? []).compactMap { $0.text("reason") }
                return .ignored("describe-services found no service (\(reasons.joined(separator: ", ")))")
            }
            return .events(events)
        }
        if let service = document["service"], service.object != nil {
            return .events([try self.service(service, context: context)])
        }
        if let arns = document["taskDefinitionArns"]?.array {
            return try listedTaskDefinitions(arns, context: context)
        }
        if let images = document["imageDetails"]?.array {
            return try observedImages(images, timeKey: "imagePushedAt", context: context)
        }
        if let images = document["images"]?.array {
            return try observedImages(images, timeKey: nil, context: context)
        }
        if let image = document["image"], image.object != nil {
            return .events([try pushedImage(image, context: context)])
        }
        if let tasks = document["tasks"]?.array {
            let events = try tasks.map { (task) throws(AdapterError) -> NewEvent in try self.task(task, context: context) }
            return events.isEmpty ? .ignored("describe-tasks found no task") : .events(events)
        }
        if let task = document["task"], task.object != nil {
            return .events([try self.task(task, context: context)])
        }
        if let instance = document["containerInstance"], instance.object != nil {
            var fields = Fields()
            guard let cluster = AWSNames.cluster(instance.text("containerInstanceArn").flatMap(Self.clusterOfContainerInstance)) else {
                throw AdapterError("containerInstance.containerInstanceArn: needs the cluster (…:container-instance/CLUSTER/ID)")
            }
            fields.set("cluster", cluster)
            fields.set("containerInstanceArn", instance.text("containerInstanceArn"))
            fields.set("instanceId", instance.text("ec2InstanceId"))
            fields.set("status", instance.text("status"))
            fields.set("agentConnected", instance["agentConnected"]?.bool)
            let sourceTime = instance.time("registeredAt")
            let id = ContentID.of("awscli:container-instance", fields.object, extra: sourceTime?.rfc3339 ?? "")
            let time = sourceTime ?? receivedTime(context, &fields)
            return .events([NewEvent(id: id, type: "container_instance.state", time: time, data: fields.object)])
        }
        if document["taskArns"] != nil {
            return .ignored("a list of task ARNs says nothing about their state")
        }
        if let activities = document["ScalingActivities"]?.array {
            return try applicationScaling(activities)
        }
        if let activities = document["Activities"]?.array {
            return try autoScalingActivities(activities)
        }
        if document["cluster"] != nil || document["repository"] != nil {
            return .ignored("creating a cluster or a repository is not a pipeline change shiplog records")
        }
        return .ignored("ECS service deployment and revision listings are not read yet; describe-services carries the deployments")
    }

    private func receivedTime(_ context: AdapterContext, _ fields: inout Fields) -> Timestamp {
        fields.set("timeSource", "received")
        return context.receivedAt
    }

    private func taskDefinition(_ definition: JSON, context: AdapterContext) throws(AdapterError) -> NewEvent {
        var fields = try ECSShapes.taskDefinition(definition)
        let inactive = fields["status"]?.string == "INACTIVE"
        var time = inactive ? (definition.time("deregisteredAt") ?? definition.time("registeredAt")) : definition.time("registeredAt")
        if time == nil { time = receivedTime(context, &fields) }
        let id = ContentID.of("awscli:taskdef:\(fields["taskDefinition"]?.string ?? "")", fields.object)
        return NewEvent(id: id, type: "taskdef.observed", time: time!, data: fields.object)
    }

    private func task(_ task: JSON, context: AdapterContext) throws(AdapterError) -> NewEvent {
        var fields = try ECSShapes.task(task)
        let sourceTime = ECSShapes.taskTime(task)
        let id = ContentID.of("awscli:task", fields.object, extra: sourceTime?.rfc3339 ?? "")
        return NewEvent(id: id, type: "task.state", time: sourceTime ?? receivedTime(context, &fields), data: fields.object)
    }

    /// `arn:aws:ecs:region:account:container-instance/CLUSTER/ID` → the cluster's name.
    static func clusterOfContainerInstance(_ arn: String) -> String? {
        guard let marker = arn.byteRange(of: ":container-instance/") else { return nil }
        let parts = arn[marker.upperBound...].split(separator: "/")
        return parts.count == 2 ? String(parts[0]) : nil
    }

    private func service(_ service: JSON, context: AdapterContext) throws(AdapterError) -> NewEvent {
        var (fields, time) = try ECSShapes.service(service)
        if time == nil { time = receivedTime(context, &fields) }
        let key = "\(fields["cluster"]?.string ?? "")/\(fields["service"]?.string ?? "")"
        return NewEvent(id: ContentID.of("awscli:service:\(key)", fields.object), type: "service.observed", time: time!, data: fields.object)
    }

    private func listedTaskDefinitions(_ arns: [JSON], context: AdapterContext) throws(AdapterError) -> AdapterOutcome {
        var events: [NewEvent] = []
        for arn in arns {
            guard let text = arn.string, let revision = TaskDefinitionID(text) else {
                throw AdapterError("taskDefinitionArns: \(JSONWriter.compact(arn)) is not a task-definition ARN")
            }
            var fields = Fields()
            fields.set("family", revision.family)
            fields.set("revision", revision.revision)
            fields.set("taskDefinition", revision.description)
            fields.set("arn", text)
            let id = ContentID.of("awscli:taskdef-listed:\(revision)", fields.object)
            let time = receivedTime(context, &fields)
            events.append(NewEvent(id: id, type: "taskdef.observed", time: time, data: fields.object))
        }
        return events.isEmpty ? .ignored("list-task-definitions listed nothing") : .events(events)
    }

    private func observedImages(_ images: [JSON], timeKey: String?, context: AdapterContext) throws(AdapterError) -> AdapterOutcome {
        var events: [NewEvent] = []
        for image in images {
            guard let repository = image.text("repositoryName"),
                let digest = image.text("imageDigest") ?? image.text("imageId", "imageDigest"), ImageReference.isDigest(digest)
            else { throw AdapterError("images[]: repositoryName and imageDigest are required") }
            var fields = Fields()
            fields.set("repository", repository)
            fields.set("registry", image.text("registryId"))
            fields.set("digest", digest)
            let tags = image["imageTags"]?.array?.compactMap(\.string) ?? image.text("imageId", "imageTag").map { [$0] } ?? []
            fields.set("tags", strings: tags.sorted())
            fields.set("pushedAt", timeKey.flatMap { image.time($0) })
            fields.set("sizeBytes", image.integer("imageSizeInBytes"))
            let id = ContentID.of("awscli:image:\(repository)@\(digest)", fields.object)
            let time = timeKey.flatMap { image.time($0) } ?? receivedTime(context, &fields)
            events.append(NewEvent(id: id, type: "image.observed", time: time, data: fields.object))
        }
        return events.isEmpty ? .ignored("the image listing is empty") : .events(events)
    }

    /// `ecr put-image` output: the push it made (the output has no time).
    private func pushedImage(_ image: JSON, context: AdapterContext) throws(AdapterError) -> NewEvent {
        guard let repository = image.text("repositoryName"), let digest = image.text("imageId", "imageDigest"),
            ImageReference.isDigest(digest)
        else { throw AdapterError("image: repositoryName and imageId.imageDigest are required") }
        var fields = Fields()
        fields.set("repository", repository)
        fields.set("registry", image.text("registryId"))
        fields.set("digest", digest)
        fields.set("tags", strings: image.text("imageId", "imageTag").map { [$0] } ?? [])
        fields.set("mediaType", image.text("imageManifestMediaType"))
        let id = ContentID.of("awscli:put-image:\(repository)@\(digest)", fields.object)
        let time = receivedTime(context, &fields)
        return NewEvent(id: id, type: "image.pushed", time: time, data: fields.object)
    }

    /// `application-autoscaling describe-scaling-activities`: desired-count changes of ECS services.
    private func applicationScaling(_ activities: [JSON]) throws(AdapterError) -> AdapterOutcome {
        var events: [NewEvent] = []
        for activity in activities where activity.text("ServiceNamespace") == "ecs" {
            let parts = (activity.text("ResourceId") ?? "").split(separator: "/")
            guard parts.count == 3, parts[0] == "service", let activityID = activity.text("ActivityId") else {
                throw AdapterError("ScalingActivities[]: ResourceId (service/CLUSTER/SERVICE) and ActivityId are required")
            }
            guard activity.text("StatusCode") == "Successful", let desired = Self.desiredCount(activity.text("Description")) else {
                continue
            }
            guard let time = activity.time("EndTime") ?? activity.time("StartTime") else {
                throw AdapterError("ScalingActivities[]: StartTime is required")
            }
            var fields = Fields()
            fields.set("cluster", String(parts[1]))
            fields.set("service", String(parts[2]))
            fields.set("desiredCount", desired)
            fields.set("status", activity.text("StatusCode"))
            fields.set("cause", activity.text("Cause"))
            fields.set("actor", "application-autoscaling")
            events.append(NewEvent(id: "aws:application-autoscaling:\(activityID)", type: "service.scaled", time: time, data: fields.object))
        }
        return events.isEmpty ? .ignored("no successful ECS desired-count change in the scaling activities") : .events(events)
    }

    /// "Setting desired count to 4." → 4.
    static func desiredCount(_ description: String?) -> Int64? {
        guard let description, let marker = description.byteRange(of: "desired count to ") else { return nil }
        return Int64(description[marker.upperBound...].prefix { $0.isNumber })
    }

    /// `autoscaling describe-scaling-activities`: instances launched and terminated.
    private func autoScalingActivities(_ activities: [JSON]) throws(AdapterError) -> AdapterOutcome {
        var events: [NewEvent] = []
        for activity in activities {
            guard let group = activity.text("AutoScalingGroupName"), let activityID = activity.text("ActivityId"),
                let description = activity.text("Description")
            else { throw AdapterError("Activities[]: AutoScalingGroupName, ActivityId and Description are required") }
            let type: String
            if description.hasPrefix("Launching") { type = "instance.launched" } else if description.hasPrefix("Terminating") {
                type = "instance.terminated"
            } else { continue }
            guard let time = activity.time("EndTime") ?? activity.time("StartTime") else {
                throw AdapterError("Activities[]: StartTime is required")
            }
            var fields = Fields()
            fields.set("autoScalingGroup", group)
            fields.set("instanceId", description.split(separator: " ").last.map { String($0.filter { $0 != "." }) })
            fields.set("status", activity.text("StatusCode"))
            fields.set("cause", activity.text("Cause"))
            events.append(NewEvent(id: "aws:autoscaling:\(activityID)", type: type, time: time, data: fields.object))
        }
        return events.isEmpty ? .ignored("no instance launch or termination in the scaling activities") : .events(events)
    }
}
