"""EC2 image (AMI) wire handlers: DescribeImages."""

from __future__ import annotations

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2.common import filters_of, registry
from pocketcloud.services.ec2 import images


@registry.op("DescribeImages", filters=images.FILTERS)
def describe_images(call: Call, p: Params) -> Result:
    found, token = images.describe_images(
        call.cloud,
        p.get("ImageIds", []),
        filters_of(p),
        p.get("Owners", []),
        p.get("MaxResults"),
        p.get("NextToken"),
    )
    return {"Images": [_image(call, v) for v in found], "NextToken": token}


def _image(call: Call, v: images.ImageView) -> Result:
    return {
        "ImageId": v.image_id,
        "ImageLocation": f"{images.OWNER_ALIAS}/{v.name}",
        "Name": v.name,
        "Description": v.description,
        "State": v.state,
        "Architecture": v.architecture,
        "CreationDate": v.created or None,
        "OwnerId": call.cloud.account_id,
        "ImageOwnerAlias": images.OWNER_ALIAS,
        "Public": True,
        "ImageType": "machine",
        "RootDeviceType": "ebs",
        "RootDeviceName": images.ROOT_DEVICE,
        "BlockDeviceMappings": [
            {
                "DeviceName": images.ROOT_DEVICE,
                "Ebs": {
                    "DeleteOnTermination": True,
                    "VolumeSize": images.ROOT_VOLUME_GIB,
                    "VolumeType": "gp3",
                    "Iops": 3000,
                    "Throughput": 125,
                    "Encrypted": False,
                },
            }
        ],
        "VirtualizationType": "hvm",
        "Hypervisor": "xen",
        "EnaSupport": True,
        "SriovNetSupport": "simple",
        "BootMode": "uefi-preferred",
        "PlatformDetails": "Linux/UNIX",
        "UsageOperation": "RunInstances",
        "ProductCodes": [],
        "Tags": [],
    }
