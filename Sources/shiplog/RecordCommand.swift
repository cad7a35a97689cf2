import ArgumentParser
import ShiplogKit

struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record a pipeline event from a CI step (push, build, image, taskdef, deploy, scale, notify).",
        discussion: """
            Flags left out are read from the GitHub Actions environment (GITHUB_REPOSITORY, \
            GITHUB_SHA, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_WORKFLOW, GITHUB_ACTOR, …). Inside \
            a workflow run the event id is derived from the run and what is recorded, so re-running \
            a step records nothing twice.
            """,
        subcommands: [
            RecordPush.self, RecordBuild.self, RecordImage.self, RecordTaskDefinition.self, RecordDeploy.self,
            RecordScale.self, RecordNotify.self,
        ])
}

/// Options every `record` subcommand takes.
struct RecordOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @OptionGroup var signing: SigningOptions

    @Option(help: ArgumentHelp("When it happened (default: now).", valueName: "time"))
    var time: Moment?

    @Option(help: "Who did it (default: $GITHUB_ACTOR, else $USER).")
    var actor: String?

    @Option(help: "The event id (default: derived from the workflow run, else unique).")
    var id: String?

    @Flag(help: "Print the event instead of recording it.")
    var dryRun = false

    var environment: CIEnvironment { CIEnvironment.current() }

    /// Builds, then records (or prints) the event.
    func record(type: String, data: JSONObject, key: String) throws {
        var data = data
        if let actor { data["actor"] = .string(actor) }
        let recorder = Recorder(environment: environment)
        let event: NewEvent
        do { event = try recorder.event(type: type, data: data, key: key, id: id, time: time?.timestamp) } catch {
            throw CommandFailure("cannot record \(type): \(error.reason)", status: .usage)
        }
        if dryRun {
            Terminal.write(JSONWriter.compact(NativeAdapter.document(for: event)) + "\n")
            return
        }
        let result = try signing.open(store).append([Recorder.document(event)])
        if result.appended > 0 {
            Terminal.write("recorded \(type) \(event.id) at position \(result.lastPosition ?? 0)\n")
        } else {
            Terminal.write("already recorded: \(event.id)\n")
        }
    }

    static func require(_ value: String?, _ flag: String, from variable: String? = nil) throws -> String {
        guard let value, !value.isEmpty else {
            throw CommandFailure("\(flag) is required" + (variable.map { " (or $\($0))" } ?? ""), status: .usage)
        }
        return value
    }
}

struct RecordPush: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Record a push (the head commit).")
    @OptionGroup var options: RecordOptions
    @Option(help: "owner/name (default: $GITHUB_REPOSITORY).") var repository: String?
    @Option(help: "The ref pushed (default: $GITHUB_REF).") var ref: String?
    @Option(help: "The head commit (default: $GITHUB_SHA).") var commit: String?
    @Option(help: "The commit before the push.") var before: String?
    @Option(help: "The head commit's message.") var message: String?
    @Option(help: ArgumentHelp("When the head commit was made (default: the event time).", valueName: "time"))
    var commitTime: Moment?

    func run() throws {
        let environment = options.environment
        let commit = try RecordOptions.require(commit ?? environment.commit, "--commit", from: "GITHUB_SHA")
        var data: JSONObject = [
            "repository": .string(try RecordOptions.require(repository ?? environment.repository, "--repository", from: "GITHUB_REPOSITORY")),
            "ref": .string(try RecordOptions.require(ref ?? environment["GITHUB_REF"], "--ref", from: "GITHUB_REF")),
            "after": .string(commit), "commit": .string(commit),
        ]
        if let before { data["before"] = .string(before) }
        var head: JSONObject = ["sha": .string(commit), "time": .string((commitTime ?? options.time)?.timestamp.rfc3339 ?? System.now().rfc3339)]
        if let message { head["message"] = .string(message) }
        if let actor = options.actor ?? environment.actor { head["author"] = .string(actor) }
        data["commits"] = [.object(head)]
        try options.record(type: "git.push", data: data, key: commit)
    }
}

struct RecordBuild: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build", abstract: "Record a CI run starting or finishing.")
    @OptionGroup var options: RecordOptions
    @Option(help: "started or completed.") var status: String = "completed"
    @Option(help: "success, failure, cancelled, … (for completed).") var conclusion: String?
    @Option(help: "owner/name (default: $GITHUB_REPOSITORY).") var repository: String?
    @Option(help: "The run id (default: $GITHUB_RUN_ID).") var runId: String?
    @Option(help: "The run attempt (default: $GITHUB_RUN_ATTEMPT).") var attempt: Int?
    @Option(help: "The workflow name (default: $GITHUB_WORKFLOW).") var workflow: String?
    @Option(help: "The commit built (default: $GITHUB_SHA).") var commit: String?
    @Option(help: "The branch (default: $GITHUB_REF_NAME).") var branch: String?
    @Option(help: "The run's URL (default: built from the environment).") var url: String?

    func validate() throws {
        guard ["started", "completed"].contains(status) else { throw ValidationError("--status is started or completed") }
        if status == "completed" && conclusion == nil { throw ValidationError("--conclusion is required for a completed build") }
    }

    func run() throws {
        let environment = options.environment
        let run = try RecordOptions.require(runId ?? environment.runID, "--run-id", from: "GITHUB_RUN_ID")
        var data: JSONObject = [
            "repository": .string(try RecordOptions.require(repository ?? environment.repository, "--repository", from: "GITHUB_REPOSITORY")),
            "runId": .string(run), "attempt": .number(String(attempt ?? environment.attempt ?? 1)),
        ]
        if let workflow = workflow ?? environment["GITHUB_WORKFLOW"] { data["workflow"] = .string(workflow) }
        if let commit = commit ?? environment.commit { data["commit"] = .string(commit) }
        if let branch = branch ?? environment["GITHUB_REF_NAME"] { data["branch"] = .string(branch) }
        if let event = environment["GITHUB_EVENT_NAME"] { data["event"] = .string(event) }
        if let url = url ?? environment.runURL { data["url"] = .string(url) }
        if let conclusion { data["conclusion"] = .string(conclusion) }
        try options.record(type: status == "started" ? "build.started" : "build.completed", data: data, key: status)
    }
}

struct RecordImage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Record an image pushed to a registry: its digest, tags and commit.",
        discussion: """
            With docker/build-push-action: --digest "${{ steps.build.outputs.digest }}", or \
            --metadata '${{ steps.build.outputs.metadata }}' (or a buildx --metadata-file), which \
            also gives the repository and tags.
            """)
    @OptionGroup var options: RecordOptions
    @Option(help: "The image repository (ml-pipe/p1-crawler).") var repository: String?
    @Option(help: "The registry host (123456789012.dkr.ecr.ap-northeast-2.amazonaws.com).") var registry: String?
    @Option(help: "The manifest digest (sha256:…).") var digest: String?
    @Option(name: .customLong("tag"), help: "A tag pushed (repeatable).") var tags: [String] = []
    @Option(help: "The commit the image was built from (default: $GITHUB_SHA).") var commit: String?
    @Option(help: "The build's run id (default: $GITHUB_RUN_ID).") var runId: String?
    @Option(help: ArgumentHelp("docker/build-push-action's metadata output, as JSON.", valueName: "json")) var metadata: String?
    @Option(help: ArgumentHelp("A buildx --metadata-file.", valueName: "file")) var metadataFile: String?

    func run() throws {
        let environment = options.environment
        var digest = digest
        var repository = repository
        var registry = registry
        var tags = tags
        let metadataText = try metadata ?? metadataFile.map { String(decoding: try System.readFile($0), as: UTF8.self) }
        if let metadataText {
            let parsed: (digest: String, images: [ImageReference])
            do { parsed = try Recorder.buildMetadata(try JSONParser.parse(metadataText)) } catch let error as AdapterError {
                throw CommandFailure("--metadata: \(error.reason)", status: .usage)
            } catch {
                throw CommandFailure("--metadata: not JSON (\(error))", status: .usage)
            }
            digest = digest ?? parsed.digest
            repository = repository ?? parsed.images.first?.repository
            registry = registry ?? parsed.images.first?.registry
            tags += parsed.images.compactMap(\.tag).filter { !tags.contains($0) }
        }
        let finalDigest = try RecordOptions.require(digest, "--digest")
        var data: JSONObject = [
            "repository": .string(try RecordOptions.require(repository, "--repository")), "digest": .string(finalDigest),
        ]
        if let registry { data["registry"] = .string(registry) }
        if !tags.isEmpty { data["tags"] = JSON(tags) }
        if let commit = commit ?? environment.commit { data["commit"] = .string(commit) }
        if let run = runId ?? environment.runID { data["runId"] = .string(run) }
        try options.record(type: "image.pushed", data: data, key: finalDigest)
    }
}

struct RecordTaskDefinition: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "taskdef", abstract: "Record a task-definition revision registered.",
        discussion: """
            --file takes the output of `aws ecs register-task-definition` (or describe-task-definition); \
            environment variable values in it are not stored, only their names.
            """)
    @OptionGroup var options: RecordOptions
    @Option(help: ArgumentHelp("register-task-definition output (JSON).", valueName: "file")) var file: String?
    @Option(help: "The revision as family:revision, when there is no --file.") var taskDefinition: String?
    @Option(help: "The container image, when there is no --file.") var image: String?

    func run() throws {
        var data: JSONObject
        if let file {
            let reader = try InputReader(path: file)
            guard case .document(let document)? = try reader.next() else {
                throw CommandFailure("\(file): not a JSON document", status: .rejected)
            }
            let definition = document.json["taskDefinition"] ?? document.json
            do {
                data = try Recorder.taskDefinitionData(definition)
            } catch {
                throw CommandFailure("\(file): \(error.reason)", status: .rejected)
            }
        } else {
            let reference = try RecordOptions.require(taskDefinition, "--task-definition or --file")
            guard let revision = TaskDefinitionID(reference) else {
                throw CommandFailure("--task-definition must be family:revision", status: .usage)
            }
            data = [
                "family": .string(revision.family), "revision": .number(String(revision.revision)),
                "taskDefinition": .string(revision.description), "status": "ACTIVE",
            ]
            if let image { data["containers"] = [["name": .string(revision.family), "image": .string(image)]] }
        }
        try options.record(type: "taskdef.registered", data: data, key: data["taskDefinition"]?.string ?? "")
    }
}

struct RecordDeploy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy", abstract: "Record a service deployment starting, finishing, failing or rolled back.")
    @OptionGroup var options: RecordOptions
    @Option(help: "The ECS cluster.") var cluster: String
    @Option(help: "The ECS service.") var service: String
    @Option(help: "The revision deployed, family:revision.") var taskDefinition: String
    @Option(help: "started, completed, failed or rolled_back.") var status: String = "started"
    @Option(help: "The ECS deployment id (ecs-svc/…).") var deploymentId: String?
    @Option(help: "The commit deployed (default: $GITHUB_SHA).") var commit: String?
    @Option(help: "Why (for failed and rolled_back).") var reason: String?
    @Option(help: "The desired count.") var desiredCount: Int?

    func validate() throws {
        guard ["started", "completed", "failed", "rolled_back"].contains(status) else {
            throw ValidationError("--status is started, completed, failed or rolled_back")
        }
        guard TaskDefinitionID(taskDefinition) != nil else { throw ValidationError("--task-definition must be family:revision") }
    }

    func run() throws {
        var data: JSONObject = [
            "cluster": .string(cluster), "service": .string(service), "taskDefinition": .string(taskDefinition),
            "trigger": "record",
        ]
        if let deploymentId { data["deploymentId"] = .string(deploymentId) }
        if let commit = commit ?? options.environment.commit { data["commit"] = .string(commit) }
        if let reason { data["reason"] = .string(reason) }
        if let desiredCount { data["desiredCount"] = .number(String(desiredCount)) }
        try options.record(type: "deployment.\(status)", data: data, key: "\(cluster)/\(service)/\(taskDefinition)/\(status)")
    }
}

struct RecordScale: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scale", abstract: "Record a service's desired count changing.")
    @OptionGroup var options: RecordOptions
    @Option(help: "The ECS cluster.") var cluster: String
    @Option(help: "The ECS service.") var service: String
    @Option(help: "The new desired count.") var desired: Int
    @Option(help: "The desired count before.") var previous: Int?
    @Option(help: "Why.") var cause: String?

    func run() throws {
        var data: JSONObject = [
            "cluster": .string(cluster), "service": .string(service), "desiredCount": .number(String(desired)),
        ]
        if let previous { data["previousDesiredCount"] = .number(String(previous)) }
        if let cause { data["cause"] = .string(cause) }
        try options.record(type: "service.scaled", data: data, key: "\(cluster)/\(service)/\(desired)")
    }
}

struct RecordNotify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify", abstract: "Record a notification (Slack, …) and the outcome it reported.")
    @OptionGroup var options: RecordOptions
    @Option(help: "Where it went (#ml-pipe-deploys).") var channel: String
    @Option(help: "The outcome it reported: success, failure, cancelled (GitHub's job.status).") var status: String
    @Option(help: "The message.") var message: String?
    @Option(help: "The cluster it is about.") var cluster: String?
    @Option(help: "The service it is about.") var service: String?
    @Option(help: "The commit (default: $GITHUB_SHA).") var commit: String?
    @Option(help: "A link (default: the run's URL).") var url: String?

    func run() throws {
        let environment = options.environment
        var data: JSONObject = ["channel": .string(channel), "status": .string(status)]
        if let message { data["message"] = .string(message) }
        if let cluster { data["cluster"] = .string(cluster) }
        if let service { data["service"] = .string(service) }
        if let commit = commit ?? environment.commit { data["commit"] = .string(commit) }
        if let repository = environment.repository { data["repository"] = .string(repository) }
        if let run = environment.runID { data["runId"] = .string(run) }
        if let url = url ?? environment.runURL { data["url"] = .string(url) }
        try options.record(type: "notification.sent", data: data, key: "\(channel)/\(status)")
    }
}
