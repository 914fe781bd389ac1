"""What a device keeps between runs of the app."""


class DeviceStorage:
    """Key-value storage that outlives app instances, as SharedPreferences does on a device."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, key: str) -> object:
        return self.values.get(key)

    async def set(self, key: str, value: str) -> bool:
        self.values[key] = value
        return True

    async def remove(self, key: str) -> bool:
        return self.values.pop(key, None) is not None
