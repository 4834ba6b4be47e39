"""The pack's manifest, read by the pegboard launcher at every start (so: no torch here)."""

from pegboard.plugin import Plugin

plugin = Plugin(
    api=1,
    configs="pegboard_data_vision.conf",
    datamodules={
        "digits": "pegboard_data_vision.digits:DigitsDataModule",
        "mnist": "pegboard_data_vision.mnist:MNISTDataModule",
        "fashion_mnist": "pegboard_data_vision.mnist:FashionMNISTDataModule",
        "kmnist": "pegboard_data_vision.mnist:KMNISTDataModule",
        "cifar10": "pegboard_data_vision.cifar:CIFAR10DataModule",
        "cifar100": "pegboard_data_vision.cifar:CIFAR100DataModule",
        "svhn": "pegboard_data_vision.svhn:SVHNDataModule",
        "image_folder": "pegboard_data_vision.image_folder:ImageFolderDataModule",
        "synthetic": "pegboard_data_vision.synthetic:SyntheticDataModule",
    },
)
