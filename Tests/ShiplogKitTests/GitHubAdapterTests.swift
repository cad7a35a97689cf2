import ShiplogKit
import ShiplogTestSupport
import Testing

/// Each normalized event checked field by field against the fixture it came from.
@Suite struct GitHubAdapterTests {
    let c0 = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807"
    let c1 = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
    let c2 = "c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b"

    @Test func bareDushPayloadBecomesAPushWithEveryCommit() throws {
        let event = try Fixtures.event("github/push.release-a.json")
        #expect(event.type == "git.push")
        #expect(event.id == "github:push:mlpipe-team/ml-pipe:refs/heads/main:0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6..\(c1)")
        #expect(event.time.rfc3339 == "2026-03-02T01:00:00Z")
        #expect(event.data["repository"] == "mlpipe-team/ml-pipe")
        #expect(event.data["ref"] == "refs/heads/main")
        #expect(event.data["before"] == "0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6")
        #expect(event.data["after"] == .string(c1))
        #expect(event.commit == c1)
        #expect(event.actor == "jiwoo")
        let commits = try #require(event.data["commits"]?.array)
        #expect(commits.map { $0["sha"]?.string } == [c0, c1])
        #expect(commits[0]["time"] == "2026-03-02T00:50:00Z")  // 09:50 at +09:00
        #expect(commits[1]["author"] == "jiwoo")
        #expect(commits[1]["message"] == "crawler: log crawl depth")
        #expect(try #require(try JSONParser.parse(JSONWriter.compact(.object(event.data)))).object == event.data)
    }

    @Test func deliveryFormUsesTheDeliveryGUIDAsTheId() throws {
        let event = try Fixtures.event("github/push.release-b.delivery.json")
        #expect(event.id == "github:delivery:5a1c0e10-17a2-11f1-8a4e-1f0a2b3c4d5e")
        #expect(event.data["delivery"] == "5a1c0e10-17a2-11f1-8a4e-1f0a2b3c4d5e")
        #expect(event.commit == c2)
        #expect(event.data["before"] == .string(c1))
        #expect(event.actor == "minseo")
    }

    @Test func deliveryWithARawStringBodyIsParsedAndRedacted() throws {
        let outcomes = try Fixtures.normalize("github/push.failed-build.delivery-raw-body.json")
        let document = try #require(try outcomes[0].get())
        let event = document.events[0]
        #expect(event.id == "github:delivery:6b2d1f21-1a3b-11f1-9b5f-2a1b3c4d5e6f")
        #expect(event.commit == "e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2")
        let message = try #require(event.data["commits"]?[0]?["message"]?.string)
        #expect(message.contains("[REDACTED:aws-access-key-id]"))
        #expect(!String(decoding: document.bytes, as: UTF8.self).contains("AKIAQEXAMPLEKEY00002"))
    }

    @Test func workflowRunStatesBecomeBuildEvents() throws {
        let requested = try Fixtures.event("github/workflow_run.requested.json")
        #expect(requested.type == "build.requested")
        #expect(requested.id == "github:workflow_run:8001000001:1:requested")
        #expect(requested.time.rfc3339 == "2026-03-02T01:00:05Z")
        let started = try Fixtures.event("github/workflow_run.in_progress.json")
        #expect(started.type == "build.started")
        let done = try Fixtures.event("github/workflow_run.completed.success.json")
        #expect(done.type == "build.completed")
        #expect(done.time.rfc3339 == "2026-03-02T01:04:10Z")
        #expect(done.data["runId"] == "8001000001")
        #expect(done.data["attempt"] == 1)
        #expect(done.data["workflow"] == "deploy_alpha")
        #expect(done.commit == c1)
        #expect(done.data["branch"] == "main")
        #expect(done.data["event"] == "push")
        #expect(done.data["conclusion"] == "success")
        #expect(done.data["url"] == "https://github.com/mlpipe-team/ml-pipe/actions/runs/8001000001")
        #expect(done.actor == "jiwoo")
        let failed = try Fixtures.event("github/workflow_run.completed.failure.json")
        #expect(failed.data["conclusion"] == "failure")
        #expect(failed.data["runId"] == "8001000003")
    }

    @Test func workflowJobBecomesABuildJob() throws {
        let job = try Fixtures.event("github/workflow_job.completed.success.json")
        #expect(job.type == "build.job")
        #expect(job.data["jobId"] == "22001000001")
        #expect(job.data["runId"] == "8001000001")
        #expect(job.data["status"] == "completed")
        #expect(job.data["conclusion"] == "success")
        #expect(job.commit == c1)
    }

    @Test func tagCreationDeploymentsAndPackages() throws {
        let tag = try Fixtures.event("github/create.tag.json")
        #expect(tag.type == "git.ref_created")
        #expect(tag.data["ref"] == "v1.0.0" && tag.data["refType"] == "tag")
        #expect(tag.time.rfc3339 == "2026-03-02T01:10:00Z")
        let deployment = try Fixtures.event("github/deployment.created.json")
        #expect(deployment.type == "github.deployment")
        #expect(deployment.data["deploymentId"] == "1501000001")
        #expect(deployment.data["environment"] == "alpha")
        #expect(deployment.commit == c1)
        let status = try Fixtures.event("github/deployment_status.success.json")
        #expect(status.type == "github.deployment_status")
        #expect(status.data["state"] == "success")
        #expect(status.time.rfc3339 == "2026-03-02T01:08:05Z")
        for file in ["github/registry_package.published.json", "github/package.published.json"] {
            let image = try Fixtures.event(file)
            #expect(image.type == "image.pushed")
            #expect(image.data["registry"] == "ghcr.io")
            #expect(image.data["repository"] == "mlpipe-team/ml-pipe")
            #expect(image.data["digest"] == .string("sha256:" + String(repeating: "1", count: 64)))
            #expect(image.data["tags"] == ["a1b2c3d"])
            #expect(image.commit == c1)
            #expect(image.time.rfc3339 == "2026-03-02T01:03:40Z")
        }
    }

    @Test func workflowDispatchIsIgnoredWithAReason() throws {
        let outcomes = try Fixtures.normalize("github/workflow_dispatch.json")
        #expect(try outcomes[0].get() == nil)
    }
}
