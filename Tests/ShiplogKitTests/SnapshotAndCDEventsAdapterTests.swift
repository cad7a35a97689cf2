import ShiplogKit
import ShiplogTestSupport
import Testing

/// AWS CLI output (made with the real `aws` CLI against moto, tools/make-awscli-fixtures).
@Suite struct AWSCLIAdapterTests {
    @Test func describeServicesBecomesAnObservationWithItsDeployments() throws {
        let event = try Fixtures.event("aws-cli/21-ecs-describe-services-P1-after-rev2.json")
        #expect(event.type == "service.observed")
        #expect(event.id.hasPrefix("awscli:service:ML-PIPE/P1:"))
        #expect(event.cluster == "ML-PIPE" && event.service == "P1")
        #expect(event.data["desiredCount"] == 2)
        let deployment = try #require(event.data["deployments"]?[0])
        #expect(deployment["id"] == "ecs-svc/901351594247281322")
        #expect(deployment["status"] == "PRIMARY")
        #expect(deployment["taskDefinition"] == "p1-crawler:1")
        #expect(deployment["rolloutState"] == "IN_PROGRESS")
        // createdAt 1795750858.964 (epoch seconds as the CLI prints them), exact to the millisecond
        #expect(deployment["createdAt"] == "2026-11-27T03:40:58.964Z")
        #expect(event.time.rfc3339 == "2026-11-27T03:40:58.964Z")
    }

    @Test func taskDefinitionsListingsAndImages() throws {
        let definition = try Fixtures.event("aws-cli/17-ecs-describe-task-definition-p1-crawler-2.json")
        #expect(definition.type == "taskdef.observed")
        #expect(definition.data["taskDefinition"] == "p1-crawler:2")
        #expect(definition.data["containers"]?[0]?["envKeys"]?.array?.isEmpty == false)
        // moto prints no registeredAt: the time is when shiplog received it, and it says so.
        #expect(definition.data["timeSource"] == "received")
        let inactive = try Fixtures.event("aws-cli/30-ecs-describe-task-definition-p1-crawler-1-inactive.json")
        #expect(inactive.data["status"] == "INACTIVE")
        let listed = try Fixtures.events("aws-cli/18-ecs-list-task-definitions-p1-crawler.json")
        #expect(listed.map { $0.data["taskDefinition"]?.string } == ["p1-crawler:1", "p1-crawler:2", "p1-crawler:3"])
        let images = try Fixtures.events("aws-cli/08-ecr-describe-images-latest-moved-to-B.json")
        #expect(images.count == 2)
        #expect(images.allSatisfy { $0.type == "image.observed" })
        #expect(images[1].data["tags"] == ["latest"])
        #expect(images[1].time.rfc3339 == "2026-11-27T03:40:51Z")
        let pushed = try Fixtures.event("aws-cli/07-ecr-put-image-latest-B.json")
        #expect(pushed.type == "image.pushed" && pushed.data["tags"] == ["latest"])
    }

    @Test func theSameSnapshotGivesTheSameIdsAndADifferentOneDoesNot() throws {
        let once = try Fixtures.events("aws-cli/21-ecs-describe-services-P1-after-rev2.json")
        let twice = try Fixtures.events("aws-cli/21-ecs-describe-services-P1-after-rev2.json")
        #expect(once.map(\.id) == twice.map(\.id))
        let later = try Fixtures.events("aws-cli/23-ecs-describe-services-P1-after-scale.json")
        #expect(later[0].id != once[0].id)
        #expect(later[0].data["desiredCount"] == 4)
    }

    @Test func tasksAndContainerInstances() throws {
        let tasks = try Fixtures.events("aws-cli/25-ecs-describe-tasks-running.json")
        #expect(!tasks.isEmpty)
        #expect(tasks.allSatisfy { $0.type == "task.state" && $0.cluster == "ML-PIPE" && $0.data["taskDefinition"] == "p1-crawler:2" })
        let instance = try Fixtures.event("aws-cli/13-ecs-register-container-instance.json")
        #expect(instance.type == "container_instance.state")
        #expect(instance.cluster == "ML-PIPE")
    }
}

@Suite struct CDEventsAdapterTests {
    @Test func serviceEventsBecomeDeploymentsWithTheImageFromThePurl() throws {
        let deployed = try Fixtures.event("cdevents/service_deployed.json")
        #expect(deployed.type == "deployment.completed")
        #expect(deployed.id.hasPrefix("cdevents:https://github.com/mlpipe-team/ml-pipe/actions/runs/8001000001:"))
        #expect(deployed.cluster == "ML-PIPE" && deployed.service == "P1")
        #expect(deployed.data["digest"] == .string(d1))
        #expect(deployed.data["image"] == .string("123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/ml-pipe/p1-crawler:latest@\(d1)"))
        #expect(deployed.data["taskDefinition"] == "p1-crawler:7")
        #expect(deployed.data["deploymentId"] == "ecs-svc/1111111111111111111")
        let rolledBack = try Fixtures.event("cdevents/service_rolledback.json")
        #expect(rolledBack.data["rollback"] == true)
        #expect(try Fixtures.event("cdevents/service_removed.json").type == "service.removed")
        let v05 = try Fixtures.event("cdevents/v0.5/service_deployed.json")
        #expect(v05.type == "deployment.completed" && v05.service == "P1")
    }

    @Test func pipelineRunsBuildsChangesArtifactsAndIncidents() throws {
        let started = try Fixtures.event("cdevents/pipelinerun_started.json")
        #expect(started.type == "build.started")
        #expect(started.data["repository"] == "mlpipe-team/ml-pipe")
        #expect(started.data["runId"] == "8001000001")
        #expect(started.data["workflow"] == "deploy_alpha")
        let finished = try Fixtures.event("cdevents/pipelinerun_finished.json")
        #expect(finished.type == "build.completed" && finished.data["conclusion"] == "success")
        #expect(try Fixtures.event("cdevents/change_merged.json").data["change"] == "57")
        let published = try Fixtures.event("cdevents/artifact_published.json")
        #expect(published.type == "image.pushed")
        #expect(published.data["repository"] == "ml-pipe/p1-crawler")
        #expect(published.data["registry"] == "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com")
        #expect(published.data["tags"] == ["latest"])
        let incident = try Fixtures.event("cdevents/incident_detected.json")
        #expect(incident.type == "incident.detected")
        #expect(incident.data["environment"] == "ML-PIPE" && incident.data["service"] == "P1")
        #expect(try Fixtures.normalize("cdevents/artifact_packaged.json")[0].get() == nil)
    }
}
