"""The pack's manifest, read by the pegboard launcher at every start (so: no torch here)."""

from pegboard.plugin import Plugin

plugin = Plugin(
    api=1,
    configs="pegboard_models_vision.conf",
    models={
        "mlp": "pegboard_models_vision.mlp:MLP",
        "cnn": "pegboard_models_vision.cnn:CNN",
        "lenet": "pegboard_models_vision.lenet:LeNet5",
        "resnet": "pegboard_models_vision.resnet:ResNet",
        "cifar_resnet": "pegboard_models_vision.resnet:CifarResNet",
        "wide_resnet": "pegboard_models_vision.wide_resnet:WideResNet",
        "mobilenet_v2": "pegboard_models_vision.mobilenet:MobileNetV2",
        "vit": "pegboard_models_vision.vit:VisionTransformer",
        "convnext": "pegboard_models_vision.convnext:ConvNeXt",
        "timm": "pegboard_models_vision.adapters:TimmModel",
        "torchvision": "pegboard_models_vision.adapters:TorchvisionModel",
    },
)
