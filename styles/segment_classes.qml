<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" styleCategories="Symbology|Labeling">
  <pipe-data-defined-properties>
    <Option type="Map">
      <Option name="name" type="QString" value=""/>
      <Option name="properties"/>
      <Option name="type" type="QString" value="collection"/>
    </Option>
  </pipe-data-defined-properties>
  <pipe>
    <provider>
      <resampling zoomedOutResamplingMethod="nearestNeighbour" maxOversampling="2" zoomedInResamplingMethod="nearestNeighbour" enabled="false"/>
    </provider>
    <rasterrenderer opacity="1" type="paletted" nodataColor="" band="1" alphaBand="-1">
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>0.02</cumulativeCutLower>
        <cumulativeCutUpper>0.98</cumulativeCutUpper>
        <stdDevFactor>2</stdDevFactor>
      </minMaxOrigin>
      <colorPalette/>
      <colorramp name="[source]" type="preset">
        <Option type="Map">
          <Option name="preset_color_0" type="QString" value="31,119,180,255"/>
          <Option name="preset_color_1" type="QString" value="255,127,14,255"/>
          <Option name="preset_color_2" type="QString" value="44,160,44,255"/>
          <Option name="preset_color_3" type="QString" value="214,39,40,255"/>
          <Option name="preset_color_4" type="QString" value="148,103,189,255"/>
          <Option name="preset_color_5" type="QString" value="140,86,75,255"/>
          <Option name="preset_color_6" type="QString" value="227,119,194,255"/>
          <Option name="preset_color_7" type="QString" value="127,127,127,255"/>
          <Option name="preset_color_8" type="QString" value="188,189,34,255"/>
          <Option name="preset_color_9" type="QString" value="23,190,207,255"/>
          <Option name="preset_color_name_0" type="QString" value="#1f77b4"/>
          <Option name="preset_color_name_1" type="QString" value="#ff7f0e"/>
          <Option name="preset_color_name_2" type="QString" value="#2ca02c"/>
          <Option name="preset_color_name_3" type="QString" value="#d62728"/>
          <Option name="preset_color_name_4" type="QString" value="#9467bd"/>
          <Option name="preset_color_name_5" type="QString" value="#8c564b"/>
          <Option name="preset_color_name_6" type="QString" value="#e377c2"/>
          <Option name="preset_color_name_7" type="QString" value="#7f7f7f"/>
          <Option name="preset_color_name_8" type="QString" value="#bcbd22"/>
          <Option name="preset_color_name_9" type="QString" value="#17becf"/>
          <Option name="rampType" type="QString" value="preset"/>
        </Option>
        <prop v="31,119,180,255" k="preset_color_0"/>
        <prop v="255,127,14,255" k="preset_color_1"/>
        <prop v="44,160,44,255" k="preset_color_2"/>
        <prop v="214,39,40,255" k="preset_color_3"/>
        <prop v="148,103,189,255" k="preset_color_4"/>
        <prop v="140,86,75,255" k="preset_color_5"/>
        <prop v="227,119,194,255" k="preset_color_6"/>
        <prop v="127,127,127,255" k="preset_color_7"/>
        <prop v="188,189,34,255" k="preset_color_8"/>
        <prop v="23,190,207,255" k="preset_color_9"/>
        <prop v="#1f77b4" k="preset_color_name_0"/>
        <prop v="#ff7f0e" k="preset_color_name_1"/>
        <prop v="#2ca02c" k="preset_color_name_2"/>
        <prop v="#d62728" k="preset_color_name_3"/>
        <prop v="#9467bd" k="preset_color_name_4"/>
        <prop v="#8c564b" k="preset_color_name_5"/>
        <prop v="#e377c2" k="preset_color_name_6"/>
        <prop v="#7f7f7f" k="preset_color_name_7"/>
        <prop v="#bcbd22" k="preset_color_name_8"/>
        <prop v="#17becf" k="preset_color_name_9"/>
        <prop v="preset" k="rampType"/>
      </colorramp>
    </rasterrenderer>
    <brightnesscontrast contrast="0" gamma="1" brightness="0"/>
    <huesaturation colorizeRed="255" colorizeBlue="128" colorizeStrength="100" colorizeGreen="128" saturation="0" grayscaleMode="0" colorizeOn="0" invertColors="0"/>
    <rasterresampler maxOversampling="2"/>
    <resamplingStage>resamplingFilter</resamplingStage>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
