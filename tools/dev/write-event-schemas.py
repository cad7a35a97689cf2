#!/usr/bin/env python3
"""Writes schema/events/*.json, the JSON Schemas of shiplog's normalized (native) event types.

The schemas are the source of truth; this script only saves typing them out by hand and keeps
them uniform. Edit the table below, run it, and commit the result together with the change.
"""
import json, os, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schema", "events")

S = {"type": "string", "minLength": 1}
INT = {"type": "integer"}
COUNT = {"type": "integer", "minimum": 0}
TIME = {"type": "string", "format": "date-time"}
SHA = {"type": "string", "format": "git-sha"}
DIGEST = {"type": "string", "format": "image-digest"}
TASKDEF = {"type": "string", "format": "task-definition"}
STRINGS = {"type": "array", "items": S}
TIME_SOURCE = {"enum": ["received"],
               "description": "set when the source document has no time: the event time is when shiplog received it"}

def ref(name):
    return {"$ref": "common.json#/$defs/" + name}

COMMON = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "common.json",
    "title": "Definitions shared by shiplog's event schemas",
    "$defs": {
        "container": {
            "type": "object",
            "description": "A container of a task definition or a running task.",
            "required": ["name"],
            "properties": {
                "name": S, "image": S, "digest": DIGEST, "tag": S, "repository": S,
                "cpu": COUNT, "memory": COUNT, "memoryReservation": COUNT, "essential": {"type": "boolean"},
                "envKeys": STRINGS,
                "secrets": {"type": "array", "items": {
                    "type": "object", "required": ["name", "valueFrom"],
                    "properties": {"name": S, "valueFrom": S}}},
                "lastStatus": S, "exitCode": INT, "reason": S,
            },
        },
        "commit": {
            "type": "object",
            "description": "A commit as a push reports it.",
            "required": ["sha"],
            "properties": {"sha": SHA, "time": TIME, "author": S, "message": {"type": "string"}},
        },
        "serviceDeployment": {
            "type": "object",
            "description": "One entry of a service's deployments array, as describe-services prints it.",
            "required": ["id", "taskDefinition"],
            "properties": {
                "id": S, "status": {"enum": ["PRIMARY", "ACTIVE", "INACTIVE"]}, "taskDefinition": TASKDEF,
                "rolloutState": {"enum": ["IN_PROGRESS", "COMPLETED", "FAILED"]}, "rolloutStateReason": {"type": "string"},
                "desiredCount": COUNT, "runningCount": COUNT, "pendingCount": COUNT, "failedTasks": COUNT,
                "createdAt": TIME, "updatedAt": TIME,
            },
        },
    },
}

REPO = {"repository": {**S, "description": "owner/name of the git repository"}}
SERVICE = {"cluster": S, "service": S}
ACTOR = {"actor": {**S, "description": "who did it: a GitHub login, an IAM principal, or a CI identity"}}
BUILD = {
    **REPO, "runId": S, "attempt": {"type": "integer", "minimum": 1},
    "workflow": S, "commit": SHA, "branch": S, "event": S, "url": S, **ACTOR,
    "startedAt": TIME, "conclusion": {"enum": ["success", "failure", "cancelled", "skipped", "timed_out",
                                               "action_required", "neutral", "stale", "startup_failure"]},
}
DEPLOYMENT = {
    **SERVICE, "taskDefinition": TASKDEF, "deploymentId": S, **ACTOR, "commit": SHA,
    "desiredCount": COUNT, "runningCount": COUNT, "failedTasks": COUNT, "reason": {"type": "string"},
    "trigger": {**S, "description": "what started it: UpdateService, CreateService, record, cdevents, …"},
    "rollback": {"type": "boolean", "description": "this deployment is a rollback to an earlier one"},
    "rollbackTo": {**S, "description": "the deployment id a circuit-breaker rollback returns to"},
    "rollbackRequest": {**S, "description": "id of the rollback.requested event this deployment carries out"},
    "environment": S, "image": S, "digest": DIGEST,
}
TASKDEF_FIELDS = {
    "family": S, "revision": {"type": "integer", "minimum": 1}, "taskDefinition": TASKDEF, "arn": S,
    "status": {"enum": ["ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS"]},
    "cpu": COUNT, "memory": COUNT, "networkMode": S, "compatibilities": STRINGS,
    "taskRoleArn": S, "executionRoleArn": S, "registeredAt": TIME, **ACTOR,
    "containers": {"type": "array", "items": ref("container")},
}

TYPES = {
    "git.push": ("A push to a branch or tag, with the commits it brought.",
                 ["repository", "ref", "commits"],
                 {**REPO, "ref": S, "before": SHA, "after": SHA, "commit": SHA, "forced": {"type": "boolean"},
                  "deleted": {"type": "boolean"}, "created": {"type": "boolean"}, **ACTOR,
                  "commits": {"type": "array", "items": ref("commit")}}),
    "git.ref_created": ("A tag or branch created (GitHub's create event carries no sha).",
                        ["repository", "ref", "refType"],
                        {**REPO, "ref": S, "refType": {"enum": ["tag", "branch"]}, "commit": SHA, **ACTOR}),
    "change.merged": ("A change (pull request) merged.", ["repository"],
                      {**REPO, "change": S, "commit": SHA, "url": S, **ACTOR}),
    "build.requested": ("A CI workflow run was requested.", ["repository", "runId"], BUILD),
    "build.started": ("A CI workflow run started.", ["repository", "runId"], BUILD),
    "build.completed": ("A CI workflow run finished; conclusion says how.", ["repository", "runId", "conclusion"], BUILD),
    "build.job": ("A job of a CI workflow run changed status.", ["repository", "runId", "jobId", "status"],
                  {**BUILD, "jobId": {"type": "string", "format": "digits"}, "name": S,
                   "status": {"enum": ["queued", "waiting", "in_progress", "completed"]}, "environment": S}),
    "github.deployment": ("A GitHub deployment (to an environment) was created.", ["repository", "deploymentId"],
                          {**REPO, "deploymentId": S, "environment": S, "commit": SHA, "ref": S, "task": S, **ACTOR}),
    "github.deployment_status": ("A GitHub deployment changed state.", ["repository", "deploymentId", "state"],
                                 {**REPO, "deploymentId": S, "environment": S, "commit": SHA,
                                  "state": S, "description": {"type": "string"}, "url": S, **ACTOR}),
    "image.pushed": ("An image manifest pushed to a registry; each tag now points at digest.",
                     ["repository", "digest"],
                     {"repository": S, "registry": S, "digest": DIGEST, "tags": STRINGS, "commit": SHA,
                      "runId": S, **ACTOR, "mediaType": S, "configDigest": DIGEST,
                      "timeSource": TIME_SOURCE}),
    "image.deleted": ("An image (or one tag of it) deleted from a registry.", ["repository"],
                      {"repository": S, "registry": S, "digest": DIGEST, "tags": STRINGS, **ACTOR}),
    "image.observed": ("An image as a listing (ecr describe-images) saw it.", ["repository", "digest"],
                       {"repository": S, "registry": S, "digest": DIGEST, "tags": STRINGS, "pushedAt": TIME,
                        "sizeBytes": COUNT, "timeSource": TIME_SOURCE}),
    "taskdef.registered": ("A task-definition revision registered.", ["family", "revision", "taskDefinition"],
                           TASKDEF_FIELDS),
    "taskdef.observed": ("A task-definition revision as describe-task-definition saw it.",
                         ["family", "revision", "taskDefinition"], TASKDEF_FIELDS),
    "taskdef.deregistered": ("A task-definition revision deregistered (INACTIVE).",
                             ["family", "revision", "taskDefinition"],
                             {"family": S, "revision": {"type": "integer", "minimum": 1}, "taskDefinition": TASKDEF, **ACTOR}),
    "deployment.started": ("A service deployment started (rolling out a task definition).",
                           ["cluster", "service"], DEPLOYMENT),
    "deployment.completed": ("A service deployment reached steady state.", ["cluster", "service"], DEPLOYMENT),
    "deployment.failed": ("A service deployment failed.", ["cluster", "service"], DEPLOYMENT),
    "deployment.rolled_back": ("A service deployment was rolled back.", ["cluster", "service"], DEPLOYMENT),
    "service.observed": ("A service as describe-services (or an update-service response) saw it.",
                         ["cluster", "service"],
                         {**SERVICE, "status": S, "taskDefinition": TASKDEF, "desiredCount": COUNT,
                          "runningCount": COUNT, "pendingCount": COUNT, "launchType": S, "timeSource": TIME_SOURCE,
                          "deployments": {"type": "array", "items": ref("serviceDeployment")}}),
    "service.event": ("An ECS service action: steady state, placement failure, …", ["cluster", "service", "eventName"],
                      {**SERVICE, "eventName": S, "eventType": S, "reason": {"type": "string"},
                       "capacityProvider": S, "taskDefinition": TASKDEF}),
    "service.scaled": ("A service's desired count changed.", ["cluster", "service", "desiredCount"],
                       {**SERVICE, "desiredCount": COUNT, "previousDesiredCount": COUNT, "runningCount": COUNT,
                        **ACTOR, "cause": {"type": "string"}, "status": S}),
    "service.removed": ("A service deleted.", ["cluster", "service"], {**SERVICE, **ACTOR}),
    "rollback.requested": ("Someone asked shiplog for a rollback plan and recorded it.",
                           ["cluster", "service", "taskDefinition", "reason", "actor"],
                           {**SERVICE, "taskDefinition": TASKDEF, "from": TASKDEF, "reason": S, **ACTOR,
                            "command": S, "reRegister": {"type": "boolean",
                                                         "description": "the revision is registered again first"}}),
    "revision.marked_bad": ("A task-definition revision vetoed as a rollback target for a service.",
                            ["cluster", "service", "taskDefinition", "reason"],
                            {**SERVICE, "taskDefinition": TASKDEF, "reason": S, **ACTOR}),
    "revision.unmarked_bad": ("A veto on a revision lifted.", ["cluster", "service", "taskDefinition"],
                              {**SERVICE, "taskDefinition": TASKDEF, "reason": {"type": "string"}, **ACTOR}),
    "task.state": ("An ECS task changed state; containers report the digest they really run.",
                   ["cluster", "taskArn", "lastStatus"],
                   {**SERVICE, "taskArn": S, "taskDefinition": TASKDEF, "deploymentId": S, "group": S,
                    "lastStatus": S, "desiredStatus": S, "stoppedReason": {"type": "string"}, "stopCode": S,
                    "launchType": S, "containerInstanceArn": S, "timeSource": TIME_SOURCE,
                    "containers": {"type": "array", "items": ref("container")}}),
    "container_instance.state": ("An ECS container instance changed state.", ["cluster"],
                                 {"cluster": S, "containerInstanceArn": S, "instanceId": S, "status": S,
                                  "agentConnected": {"type": "boolean"}, "timeSource": TIME_SOURCE}),
    "instance.launched": ("An EC2 Auto Scaling group launched an instance (or failed to).",
                          ["autoScalingGroup"],
                          {"autoScalingGroup": S, "instanceId": S, "status": S, "cause": {"type": "string"},
                           "cluster": S}),
    "instance.terminated": ("An EC2 Auto Scaling group terminated an instance.", ["autoScalingGroup"],
                            {"autoScalingGroup": S, "instanceId": S, "status": S, "cause": {"type": "string"},
                             "cluster": S}),
    "notification.sent": ("A notification (Slack, …) said how a pipeline step went.", ["channel", "status"],
                          {"channel": S, "status": S, "message": {"type": "string"}, **SERVICE, "commit": SHA,
                           "repository": S, "runId": S, "url": S, **ACTOR}),
    "environment.changed": ("An environment was created or modified.", ["environment"],
                            {"environment": S, "action": S, "url": S, **ACTOR}),
    "incident.detected": ("An incident detected in an environment.", ["environment"],
                          {"environment": S, "incident": S, "service": S, "description": {"type": "string"}, **ACTOR}),
    "api.call_failed": ("An AWS API call that changes the pipeline was refused (CloudTrail errorCode).",
                        ["api", "errorCode"],
                        {"api": {**S, "description": "service:Operation, e.g. ecs:UpdateService"}, "errorCode": S,
                         "errorMessage": {"type": "string"}, "cluster": S, "service": S, "family": S, **ACTOR,
                         "account": S}),
    "incident.resolved": ("An incident resolved.", ["environment"],
                          {"environment": S, "incident": S, "service": S, "description": {"type": "string"}, **ACTOR}),
}

def main():
    os.makedirs(ROOT, exist_ok=True)
    written = {"common.json"}
    with open(os.path.join(ROOT, "common.json"), "w") as f:
        json.dump(COMMON, f, indent=2)
        f.write("\n")
    for name, (description, required, properties) in sorted(TYPES.items()):
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": name + ".json",
            "title": name,
            "description": description + " This schema validates the event's data object.",
            "type": "object",
            "required": required,
            "properties": properties,
        }
        with open(os.path.join(ROOT, name + ".json"), "w") as f:
            json.dump(schema, f, indent=2)
            f.write("\n")
        written.add(name + ".json")
    for stale in set(os.listdir(ROOT)) - written:
        os.remove(os.path.join(ROOT, stale))
    envelope = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "native-event.json",
        "title": "shiplog native event",
        "description": "One event in shiplog's own format: one JSON object per line (NDJSON). "
                       "`shiplog record` writes it; `shiplog ingest` reads it; `shiplog events --format ndjson` prints it.",
        "type": "object",
        "required": ["shiplog", "id", "type", "time", "data"],
        "properties": {
            "shiplog": {"const": 1, "description": "format version"},
            "id": {"type": "string", "minLength": 1, "maxLength": 512,
                   "description": "unique id; appending an id already stored appends nothing"},
            "type": {"enum": sorted(TYPES), "description": "see schema/events/<type>.json for its data"},
            "time": {"type": "string", "format": "date-time", "description": "when it happened (RFC 3339)"},
            "stream": {"type": "string", "minLength": 1, "maxLength": 512,
                       "description": "optional; derived from type and data when absent"},
            "data": {"type": "object"},
        },
    }
    with open(os.path.join(ROOT, "..", "native-event.json"), "w") as f:
        json.dump(envelope, f, indent=2)
        f.write("\n")

if __name__ == "__main__":
    main()
