/// The demo pipeline of the article shiplog grew from: a GitHub Actions workflow builds each
/// push, pushes `:latest` to ECR and updates the ECS services `P1` (crawler) and `P2`
/// (resizer) of the cluster `ML-PIPE`, then tells Slack how it went.
///
/// The story: both services ship, P1 ships again, P1 scales out, a build fails (nothing
/// deploys), a bad P1 release is rolled back by the ECS circuit breaker, and P2 ships again.
public enum DemoScenario {
    public static let cluster = "ML-PIPE"
    public static let repository = "mlpipe-team/ml-pipe"
    public static let registry = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com"

    struct Service {
        let name: String
        let family: String
        let imageRepository: String
    }

    static let crawler = Service(name: "P1", family: "p1-crawler", imageRepository: "ml-pipe/p1-crawler")
    static let resizer = Service(name: "P2", family: "p2-resizer", imageRepository: "ml-pipe/p2-resizer")

    /// The demo as native documents, one event each.
    public static func documents() -> [PreparedDocument] {
        var builder = Builder(start: Timestamp.utc(year: 2026, month: 11, day: 2, hour: 9))
        builder.release(crawler, revision: 1, author: "jiwoo", messages: ["crawler: first version", "add robots.txt check"])
        builder.release(resizer, revision: 1, author: "minseo", messages: ["resizer: 512px thumbnails"])
        builder.advance(days: 2)
        builder.release(crawler, revision: 2, author: "jiwoo", messages: ["crawler: retry on 429", "log crawl depth"])
        builder.advance(days: 1)
        builder.scaleOut(crawler, from: 2, to: 4)
        builder.advance(days: 2)
        builder.failedBuild(author: "minseo", message: "resizer: switch to libvips (tests fail)")
        builder.advance(days: 1)
        builder.release(crawler, revision: 3, author: "jiwoo", messages: ["crawler: new parser"], rolledBack: true)
        builder.advance(days: 1)
        builder.release(resizer, revision: 2, author: "minseo", messages: ["resizer: switch to libvips", "fix vips tests"])
        return builder.documents
    }

    struct Builder {
        var clock: Timestamp
        var documents: [PreparedDocument] = []
        var sequence = 0
        var headCommit = "0000000000000000000000000000000000000000"
        var desired: [String: Int] = ["P1": 2, "P2": 2]
        var runID = 7_301_000_000
        var liveDeployment: [String: String] = [:]
        var liveRevision: [String: Int] = [:]
        var liveDigest: [String: String] = [:]
        var runningTasks: [String: [(taskDefinition: String, deployment: String, digest: String, index: Int)]] = [:]

        init(start: Timestamp) {
            clock = start
        }

        mutating func advance(days: Int64) {
            clock = clock + days * 86_400
        }

        mutating func tick(_ seconds: Int64) -> Timestamp {
            clock = clock + seconds
            return clock
        }

        mutating func emit(_ type: String, _ data: JSONObject, at time: Timestamp) {
            sequence += 1
            let id = "demo-\(String(sequence, radix: 10).leftPadded(to: 4))"
            let event = NewEvent(id: id, type: type, time: time, data: data)
            let bytes = Array(JSONWriter.compact(NativeAdapter.document(for: event)).utf8)
            documents.append(PreparedDocument(source: "native", bytes: bytes, events: [event]))
        }

        static func hex(_ seed: String, length: Int) -> String {
            // Deterministic, well-spread hex for made-up shas and digests.
            var bytes: [UInt8] = []
            var state: UInt64 = 1_469_598_103_934_665_603
            for byte in seed.utf8 { state = (state ^ UInt64(byte)) &* 1_099_511_628_211 }
            while bytes.count * 2 < length {
                state ^= state >> 33
                state = state &* 0xff51_afd7_ed55_8ccd
                state ^= state >> 29
                withUnsafeBytes(of: state.littleEndian) { bytes.append(contentsOf: $0) }
            }
            return String(Hex.encode(bytes).prefix(length))
        }

        static func digits(_ seed: String, length: Int) -> String {
            String(hex(seed, length: length).unicodeScalars.map { Character(String($0.value % 10)) })
        }

        mutating func push(author: String, messages: [String]) -> String {
            let before = headCommit
            var commits: [JSON] = []
            for message in messages {
                let time = tick(600)
                let sha = Self.hex("\(message)\(time)", length: 40)
                commits.append([
                    "sha": .string(sha), "time": .string(time.rfc3339), "author": .string(author), "message": .string(message),
                ])
                headCommit = sha
            }
            emit("git.push", [
                "repository": .string(DemoScenario.repository), "ref": "refs/heads/main", "before": .string(before),
                "after": .string(headCommit), "commit": .string(headCommit), "actor": .string(author), "commits": .array(commits),
            ], at: tick(30))
            return headCommit
        }

        mutating func build(commit: String, author: String, success: Bool) -> String {
            runID += 1
            let run = String(runID)
            let base: JSONObject = [
                "repository": .string(DemoScenario.repository), "runId": .string(run), "attempt": 1,
                "workflow": "deploy_alpha", "commit": .string(commit), "branch": "main", "event": "push",
                "actor": .string(author), "url": .string("https://github.com/\(DemoScenario.repository)/actions/runs/\(run)"),
            ]
            emit("build.started", base, at: tick(5))
            var finished = base
            finished["conclusion"] = .string(success ? "success" : "failure")
            emit("build.completed", finished, at: tick(success ? 240 : 95))
            return run
        }

        mutating func notify(status: String, message: String, commit: String, run: String, service: String? = nil) {
            var data: JSONObject = [
                "channel": "#ml-pipe-deploys", "status": .string(status), "message": .string(message),
                "commit": .string(commit), "repository": .string(DemoScenario.repository), "runId": .string(run),
                "actor": "github-actions",
            ]
            if let service {
                data["cluster"] = .string(DemoScenario.cluster)
                data["service"] = .string(service)
            }
            emit("notification.sent", data, at: tick(3))
        }

        mutating func release(_ service: Service, revision: Int, author: String, messages: [String], rolledBack: Bool = false) {
            let commit = push(author: author, messages: messages)
            let run = build(commit: commit, author: author, success: true)
            let digest = "sha256:" + Self.hex("image-\(service.family)-\(revision)", length: 64)
            emit("image.pushed", [
                "repository": .string(service.imageRepository), "registry": .string(DemoScenario.registry),
                "digest": .string(digest), "tags": ["latest", .string(String(commit.prefix(7)))],
                "commit": .string(commit), "runId": .string(run), "actor": "github-actions",
            ], at: tick(20))
            let taskDefinition = "\(service.family):\(revision)"
            emit("taskdef.registered", [
                "family": .string(service.family), "revision": .number(String(revision)),
                "taskDefinition": .string(taskDefinition), "status": "ACTIVE", "cpu": 1024, "memory": 2048,
                "actor": "github-actions", "networkMode": "awsvpc",
                "containers": [[
                    "name": .string(service.family),
                    "image": .string("\(DemoScenario.registry)/\(service.imageRepository):latest"),
                    "cpu": 1024, "memory": 2048, "essential": true,
                    "envKeys": ["CRAWL_QUEUE_URL", "LOG_LEVEL"],
                    "secrets": [["name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:ap-northeast-2:123456789012:parameter/ml-pipe/db-password"]],
                ]],
            ], at: tick(10))
            let deployment = "ecs-svc/" + Self.digits("deployment-\(taskDefinition)", length: 19)
            let serviceData: JSONObject = ["cluster": .string(DemoScenario.cluster), "service": .string(service.name)]
            var started = serviceData
            started["taskDefinition"] = .string(taskDefinition)
            started["deploymentId"] = .string(deployment)
            started["actor"] = "github-actions"
            started["commit"] = .string(commit)
            started["desiredCount"] = .number(String(desired[service.name] ?? 2))
            started["trigger"] = "UpdateService"
            emit("deployment.started", started, at: tick(15))
            let count = desired[service.name] ?? 2
            if rolledBack {
                for task in 0..<count {
                    emitTask(service, taskDefinition: taskDefinition, deployment: deployment, digest: digest, index: task,
                             status: "STOPPED", reason: "Essential container in task exited")
                }
            } else {
                replaceTasks(service, taskDefinition: taskDefinition, deployment: deployment, digest: digest, count: count)
            }
            var outcome = serviceData
            outcome["taskDefinition"] = .string(taskDefinition)
            outcome["deploymentId"] = .string(deployment)
            if rolledBack, let previousDeployment = liveDeployment[service.name], let previous = liveRevision[service.name],
                let previousDigest = liveDigest[service.name]
            {
                outcome["reason"] = "ECS deployment circuit breaker: task failed to start."
                emit("deployment.failed", outcome, at: tick(300))
                let rollback = "ecs-svc/" + Self.digits("rollback-\(taskDefinition)", length: 19)
                var back = serviceData
                back["deploymentId"] = .string(rollback)
                back["rollback"] = true
                back["rollbackTo"] = .string(previousDeployment)
                back["reason"] = .string("ECS deployment circuit breaker: rolling back to deploymentId \(previousDeployment).")
                back["trigger"] = "circuit-breaker"
                back["actor"] = "ecs.amazonaws.com"
                emit("deployment.started", back, at: tick(2))
                let rolledBackTo = "\(service.family):\(previous)"
                replaceTasks(service, taskDefinition: rolledBackTo, deployment: rollback, digest: previousDigest, count: count)
                var done = serviceData
                done["deploymentId"] = .string(rollback)
                emit("deployment.completed", done, at: tick(180))
                liveDeployment[service.name] = rollback
                notify(status: "failure", message: "P1 \(taskDefinition) rolled back to \(rolledBackTo)", commit: commit, run: run,
                       service: service.name)
            } else {
                emit("deployment.completed", outcome, at: tick(200))
                liveDeployment[service.name] = deployment
                liveRevision[service.name] = revision
                liveDigest[service.name] = digest
                notify(status: "success", message: "\(service.name) deployed \(taskDefinition)", commit: commit, run: run,
                       service: service.name)
            }
        }

        /// Starts `count` tasks of a deployment, then stops the tasks it replaces.
        mutating func replaceTasks(_ service: Service, taskDefinition: String, deployment: String, digest: String, count: Int) {
            let old = runningTasks[service.name] ?? []
            for index in 0..<count {
                emitTask(service, taskDefinition: taskDefinition, deployment: deployment, digest: digest, index: index, status: "RUNNING")
            }
            for task in old {
                emitTask(service, taskDefinition: task.taskDefinition, deployment: task.deployment, digest: task.digest, index: task.index,
                         status: "STOPPED", reason: "Scaling activity initiated by (deployment \(deployment))")
            }
            runningTasks[service.name] = (0..<count).map { (taskDefinition, deployment, digest, $0) }
        }

        mutating func emitTask(
            _ service: Service, taskDefinition: String, deployment: String, digest: String, index: Int, status: String,
            reason: String? = nil
        ) {
            var state: JSONObject = [
                "cluster": .string(DemoScenario.cluster), "service": .string(service.name),
                "taskArn": .string("arn:aws:ecs:ap-northeast-2:123456789012:task/\(DemoScenario.cluster)/"
                    + Self.hex("\(deployment)-\(index)", length: 32)),
                "taskDefinition": .string(taskDefinition), "deploymentId": .string(deployment), "group": .string("service:\(service.name)"),
                "lastStatus": .string(status), "desiredStatus": .string(status == "RUNNING" ? "RUNNING" : "STOPPED"),
                "containers": [[
                    "name": .string(service.family), "image": .string("\(DemoScenario.registry)/\(service.imageRepository):latest"),
                    "digest": .string(digest), "lastStatus": .string(status),
                ]],
            ]
            if let reason { state["stoppedReason"] = .string(reason) }
            emit("task.state", state, at: tick(20))
        }

        mutating func scaleOut(_ service: Service, from: Int, to: Int) {
            emit("service.scaled", [
                "cluster": .string(DemoScenario.cluster), "service": .string(service.name), "desiredCount": .number(String(to)),
                "previousDesiredCount": .number(String(from)), "actor": "arn:aws:iam::123456789012:user/jiwoo",
                "cause": "crawl backlog above 10k URLs",
            ], at: tick(60))
            desired[service.name] = to
            for index in 0..<2 {
                emit("instance.launched", [
                    "autoScalingGroup": "ML-PIPE-asg", "cluster": .string(DemoScenario.cluster),
                    "instanceId": .string("i-0" + Self.hex("instance-\(index)", length: 16)), "status": "Successful",
                    "cause": "capacity provider ML-PIPE-cp scaled the group from 2 to 4 instances",
                ], at: tick(90))
            }
            if let deployment = liveDeployment[service.name], let revision = liveRevision[service.name],
                let digest = liveDigest[service.name]
            {
                for index in from..<to {
                    emitTask(service, taskDefinition: "\(service.family):\(revision)", deployment: deployment, digest: digest,
                             index: index, status: "RUNNING")
                    runningTasks[service.name, default: []].append(("\(service.family):\(revision)", deployment, digest, index))
                }
            }
        }

        mutating func failedBuild(author: String, message: String) {
            let commit = push(author: author, messages: [message])
            let run = build(commit: commit, author: author, success: false)
            notify(status: "failure", message: "build failed: \(message)", commit: commit, run: run)
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
