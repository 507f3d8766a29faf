def test_import():
    import geovl.geo.grid
