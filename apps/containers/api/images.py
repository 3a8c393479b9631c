"""REST endpoints for images.

Image references hold slashes and colons (``127.0.0.1:5000/ns/app:1``), so
these views are routed by explicit ``<path:pk>`` patterns in ``urls.py``
rather than by the router.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.audit.models import Action

from ..services import images as service
from .base import ENVIRONMENT_PARAM, DockerViewSet
from .serializers.images import (
    ImageDeleteQuerySerializer,
    ImageListQuerySerializer,
    ImagePruneSerializer,
    TagSerializer,
)


@extend_schema(parameters=[ENVIRONMENT_PARAM])
class ImageViewSet(DockerViewSet):
    # Images are shared by everything on an engine: the environment's grants
    # decide. Tagging adds a name; removing and pruning can take an image
    # from under other users' containers.
    access_rules = {
        "list": "view",
        "retrieve": "view",
        "history": "view",
        "tag": "operate",
        "destroy": "change",
        "prune": "change",
    }
    audit_resource_type = "image"
    audit_actions = {
        "tag": Action.IMAGE_TAG,
        "destroy": Action.IMAGE_DELETE,
        "prune": Action.IMAGE_PRUNE,
    }

    @extend_schema(parameters=[ImageListQuerySerializer])
    def list(self, request: Request) -> Response:
        query = self.query(ImageListQuerySerializer)
        items = service.list_images(
            self.environment(), labels=request.query_params.getlist("label"), **query
        )
        return self.paginated(request, items)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(service.inspect_image(self.environment(), pk))

    def history(self, request: Request, pk: str) -> Response:
        return Response(service.image_history(self.environment(), pk))

    @extend_schema(request=TagSerializer)
    def tag(self, request: Request, pk: str) -> Response:
        body = self.body(TagSerializer)
        tagged = service.tag_image(self.environment(), pk, request=request, **body)
        return Response(tagged, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[ImageDeleteQuerySerializer])
    def destroy(self, request: Request, pk: str) -> Response:
        query = self.query(ImageDeleteQuerySerializer)
        removed = service.remove_image(self.environment(), pk, request=request, **query)
        return Response(removed)

    @extend_schema(request=ImagePruneSerializer)
    def prune(self, request: Request) -> Response:
        body = self.body(ImagePruneSerializer)
        return Response(
            service.prune_images(
                self.environment(),
                all_unused=body["all"],
                labels=body["labels"],
                request=request,
            )
        )
