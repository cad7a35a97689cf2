import ShiplogKit
import ShiplogTestSupport
import Testing

let d1 = "sha256:" + String(repeating: "1", count: 64)
let d2 = "sha256:" + String(repeating: "2", count: 64)
let d4 = "sha256:" + String(repeating: "4", count: 64)
let ciRole = "arn:aws:sts::123456789012:assumed-role/github-actions-deploy/GitHubActions"

@Suite struct EventBridgeAdapterTests {
    @Test func ecrPushMovesATagToADigest() throws {
        let push = try Fixtures.event("aws-eventbridge/ecr.push.p1-latest.D2.json")
        #expect(push.type == "image.pushed")
        #expect(push.id.hasPrefix("aws:eventbridge:"))
        #expect(push.time.rfc3339 == "2026-03-05T02:03:30Z")
        #expect(push.data["repository"] == "ml-pipe/p1-crawler")
        #expect(push.data["registry"] == "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com")
        #expect(push.data["digest"] == .string(d2))
        #expect(push.data["tags"] == ["latest"])
        let delete = try Fixtures.event("aws-eventbridge/ecr.delete.p1-a1b2c3d.json")
        #expect(delete.type == "image.deleted")
        #expect(delete.data["tags"] == ["a1b2c3d"])
    }

    @Test func taskStateChangeCarriesTheDigestReallyRunAndTheDeployment() throws {
        let task = try Fixtures.event("aws-eventbridge/ecs.task.stopped.2222.json")
        #expect(task.type == "task.state")
        #expect(task.time.rfc3339 == "2026-03-05T02:05:00.318Z")
        #expect(task.cluster == "ML-PIPE")
        #expect(task.service == "P1")
        #expect(task.data["taskDefinition"] == "p1-crawler:8")
        #expect(task.data["deploymentId"] == "ecs-svc/2222222222222222222")
        #expect(task.data["lastStatus"] == "STOPPED")
        #expect(task.data["stoppedReason"] == "Essential container in task exited")
        let container = try #require(task.data["containers"]?[0])
        #expect(container["digest"] == .string(d2))
        #expect(container["tag"] == "latest")
        #expect(container["exitCode"] == 1)
        #expect(try task.stream() == "service/ML-PIPE/P1")
    }

    @Test func deploymentStateChangesAndTheCircuitBreakerRollback() throws {
        let failed = try Fixtures.event("aws-eventbridge/ecs.deployment.failed.2222.json")
        #expect(failed.type == "deployment.failed")
        #expect(failed.data["deploymentId"] == "ecs-svc/2222222222222222222")
        #expect(failed.data["reason"] == "ECS deployment circuit breaker: task failed to start.")
        #expect(failed.data["rollback"] == nil)
        let rollback = try Fixtures.event("aws-eventbridge/ecs.deployment.in-progress.rollback.3333.json")
        #expect(rollback.type == "deployment.started")
        #expect(rollback.data["deploymentId"] == "ecs-svc/3333333333333333333")
        #expect(rollback.data["rollback"] == true)
        #expect(rollback.data["rollbackTo"] == "ecs-svc/1111111111111111111")
        #expect(rollback.cluster == "ML-PIPE" && rollback.service == "P1")
        let completed = try Fixtures.event("aws-eventbridge/ecs.deployment.completed.3333.json")
        #expect(completed.type == "deployment.completed")
    }

    @Test func serviceActionsContainerInstancesAndScaling() throws {
        let steady = try Fixtures.event("aws-eventbridge/ecs.service-action.steady-state.P1.json")
        #expect(steady.type == "service.event")
        #expect(steady.data["eventName"] == "SERVICE_STEADY_STATE")
        let placement = try Fixtures.event("aws-eventbridge/ecs.service-action.placement-failure.P2.json")
        #expect(placement.data["eventName"] == "SERVICE_TASK_PLACEMENT_FAILURE")
        #expect(placement.service == "P2")
        let instance = try Fixtures.event("aws-eventbridge/ecs.container-instance.active.json")
        #expect(instance.type == "container_instance.state")
        #expect(instance.data["instanceId"] == "i-0a1b2c3d4e5f60001")
        #expect(instance.data["status"] == "ACTIVE")
        let launch = try Fixtures.event("aws-eventbridge/autoscaling.launch.1.json")
        #expect(launch.type == "instance.launched")
        #expect(launch.data["autoScalingGroup"] == "ML-PIPE-asg")
        #expect(launch.data["instanceId"] == "i-0a1b2c3d4e5f60001")
        #expect(launch.data["status"] == "Successful")
        #expect(try Fixtures.event("aws-eventbridge/autoscaling.terminate.json").type == "instance.terminated")
    }

    @Test func aCloudTrailCallArrivingThroughEventBridgeIsTheSameEventAsTheRawRecord() throws {
        let wrapped = try Fixtures.event("aws-eventbridge/cloudtrail-via-eventbridge.update-service.P1-rev7.json")
        let raw = try Fixtures.event("aws-cloudtrail/ecs.UpdateService.P1-rev7.json")
        #expect(wrapped == raw)
    }
}

@Suite struct CloudTrailAdapterTests {
    @Test func registerTaskDefinitionKeepsVariableNamesAndSecretReferencesOnly() throws {
        let outcomes = try Fixtures.normalize("aws-cloudtrail/ecs.RegisterTaskDefinition.p1-crawler-7.json")
        let document = try #require(try outcomes[0].get())
        let event = document.events[0]
        #expect(event.type == "taskdef.registered")
        #expect(event.time.rfc3339 == "2026-03-02T01:04:00Z")
        #expect(event.actor == ciRole)
        #expect(event.data["taskDefinition"] == "p1-crawler:7")
        #expect(event.data["family"] == "p1-crawler" && event.data["revision"] == 7)
        #expect(event.data["status"] == "ACTIVE")
        #expect(event.data["registeredAt"] == "2026-03-02T01:04:00Z")  // CloudTrail's "Mar 2, 2026 1:04:00 AM"
        let container = try #require(event.data["containers"]?[0])
        #expect(container["image"] == "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/ml-pipe/p1-crawler:latest")
        #expect(container["tag"] == "latest")
        #expect(container["envKeys"] == ["API_TOKEN", "DB_URL", "LOG_LEVEL", "SLACK_WEBHOOK"])
        #expect(container["secrets"]?[0]?["valueFrom"] == "arn:aws:ssm:ap-northeast-2:123456789012:parameter/ml-pipe/db-password")
        let stored = String(decoding: document.bytes, as: UTF8.self)
        for secret in ["S3cretPassw0rd", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "hooks.slack.com/services/T0ABCDEF1",
                       "ASIAQEXAMPLEKEY00001"] {
            #expect(!stored.contains(secret), "\(secret) survived in the stored original")
        }
        #expect(stored.contains("[REDACTED:env]"))
    }

    @Test func updateServiceStartsADeploymentWithItsIdAndActor() throws {
        let event = try Fixtures.event("aws-cloudtrail/ecs.UpdateService.P1-rev8.json")
        #expect(event.type == "deployment.started")
        #expect(event.data["deploymentId"] == "ecs-svc/2222222222222222222")
        #expect(event.data["taskDefinition"] == "p1-crawler:8")
        #expect(event.data["trigger"] == "UpdateService")
        #expect(event.actor == ciRole)
        #expect(event.cluster == "ML-PIPE" && event.service == "P1")
    }

    @Test func updateServiceOfTheDesiredCountIsAScaling() throws {
        let event = try Fixtures.event("aws-cloudtrail/ecs.UpdateService.P1-desired-4.json")
        #expect(event.type == "service.scaled")
        #expect(event.data["desiredCount"] == 4)
        #expect(event.actor == "arn:aws:iam::123456789012:user/jiwoo")
    }

    @Test func createDeregisterPutImageAndARefusedCall() throws {
        let create = try Fixtures.event("aws-cloudtrail/ecs.CreateService.P2.json")
        #expect(create.type == "deployment.started" && create.data["trigger"] == "CreateService")
        #expect(create.data["deploymentId"] == "ecs-svc/5555555555555555555")
        let deregister = try Fixtures.event("aws-cloudtrail/ecs.DeregisterTaskDefinition.p1-crawler-6.json")
        #expect(deregister.type == "taskdef.deregistered")
        #expect(deregister.data["taskDefinition"] == "p1-crawler:6")
        let push = try Fixtures.event("aws-cloudtrail/ecr.PutImage.p1-latest.D1.json")
        #expect(push.type == "image.pushed")
        #expect(push.data["digest"] == .string(d1) && push.data["tags"] == ["latest"])
        #expect(push.actor == ciRole)
        let denied = try Fixtures.event("aws-cloudtrail/ecs.UpdateService.denied.json")
        #expect(denied.type == "api.call_failed")
        #expect(denied.data["api"] == "ecs:UpdateService")
        #expect(denied.data["errorCode"] == "AccessDenied")
    }

    @Test func aLogFileIsSplitIntoRecordsAndReadOnlyCallsAreIgnored() throws {
        let outcomes = try Fixtures.normalize("aws-cloudtrail/cloudtrail-log-file.json")
        #expect(outcomes.count == 3)
        let kept = try outcomes.compactMap { try $0.get() }
        #expect(kept.map { $0.events[0].type } == ["image.pushed", "taskdef.deregistered"])
        // Each record is stored as its own bytes, not the whole file.
        #expect(kept.allSatisfy { String(decoding: $0.bytes, as: UTF8.self).hasPrefix("{\"eventVersion\"") })
        #expect(try Fixtures.normalize("aws-cloudtrail/ecs.DescribeServices.readonly.json")[0].get() == nil)
    }
}
