"""wuye (物业): a property-management office's tenant archive and move-out desk over git."""

__version__ = "0.1.0"
