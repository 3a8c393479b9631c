"""Jobs as the API shows them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import Job, JobOutput, Kind, Status

# Never shown: which credential a pull used is the user's business, and the
# stored context's file name means nothing outside the worker.
_HIDDEN_PARAMS = {"credential", "context", "audit_action"}


class JobSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True, default="")
    environment = serializers.CharField(
        source="environment.name", read_only=True, default=""
    )
    params = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "target",
            "environment",
            "user",
            "status",
            "progress",
            "params",
            "result",
            "error",
            "cancel_requested",
            "output_chunks",
            "queued_at",
            "started_at",
            "finished_at",
            "links",
        ]
        read_only_fields = fields

    def get_params(self, job: Job) -> dict[str, Any]:
        shown = {k: v for k, v in job.params.items() if k not in _HIDDEN_PARAMS}
        if shown.get("build_args"):
            # Build arguments often carry tokens: their names are enough here.
            shown["build_args"] = dict.fromkeys(shown["build_args"], "***")
        return shown

    def get_links(self, job: Job) -> dict[str, str]:
        return {
            "self": f"/api/v1/jobs/{job.pk}/",
            "output": f"/api/v1/jobs/{job.pk}/output/",
            "cancel": f"/api/v1/jobs/{job.pk}/cancel/",
            "websocket": f"/ws/jobs/{job.pk}/",
        }


class JobOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobOutput
        fields = ["seq", "text", "events", "created_at"]
        read_only_fields = fields


class JobListQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    user = serializers.CharField(required=False, max_length=150)


class JobOutputQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0, default=0, help_text="Only chunks numbered above this one."
    )
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=500)
