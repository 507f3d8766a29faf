<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis styleCategories="Symbology|Labeling" version="3.22.16-Białowieża" labelsEnabled="0">
  <renderer-v2 type="categorizedSymbol" attr="class" enableorderby="0" symbollevels="0" referencescale="-1" forceraster="0">
    <categories>
      <category symbol="0" render="true" value="" label="class (the class raster's colours)"/>
    </categories>
    <symbols>
      <symbol name="0" type="fill" alpha="1" force_rhr="0" clip_to_extent="1">
        <data_defined_properties>
          <Option type="Map">
            <Option name="name" type="QString" value=""/>
            <Option name="properties"/>
            <Option name="type" type="QString" value="collection"/>
          </Option>
        </data_defined_properties>
        <layer enabled="1" pass="0" locked="0" class="SimpleFill">
          <Option type="Map">
            <Option name="border_width_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0"/>
            <Option name="color" type="QString" value="31,119,180,110"/>
            <Option name="joinstyle" type="QString" value="bevel"/>
            <Option name="offset" type="QString" value="0,0"/>
            <Option name="offset_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0"/>
            <Option name="offset_unit" type="QString" value="MM"/>
            <Option name="outline_color" type="QString" value="50,50,50,255"/>
            <Option name="outline_style" type="QString" value="solid"/>
            <Option name="outline_width" type="QString" value="0.4"/>
            <Option name="outline_width_unit" type="QString" value="MM"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
          <prop v="3x:0,0,0,0,0,0" k="border_width_map_unit_scale"/>
          <prop v="31,119,180,110" k="color"/>
          <prop v="bevel" k="joinstyle"/>
          <prop v="0,0" k="offset"/>
          <prop v="3x:0,0,0,0,0,0" k="offset_map_unit_scale"/>
          <prop v="MM" k="offset_unit"/>
          <prop v="50,50,50,255" k="outline_color"/>
          <prop v="solid" k="outline_style"/>
          <prop v="0.4" k="outline_width"/>
          <prop v="MM" k="outline_width_unit"/>
          <prop v="solid" k="style"/>
          <data_defined_properties>
            <Option type="Map">
              <Option name="name" type="QString" value=""/>
              <Option name="properties" type="Map">
                <Option name="fillColor" type="Map">
                  <Option name="active" type="bool" value="true"/>
                  <Option name="expression" type="QString" value="with_variable('code', array_find(array_distinct(aggregate(@layer, 'array_agg', &quot;class&quot;, order_by:=coalesce(&quot;prompt_id&quot;, 2147483647))), &quot;class&quot;) + 1, set_color_part(if(@code &lt;= 10, array_get(array('31,119,180', '255,127,14', '44,160,44', '214,39,40', '148,103,189', '140,86,75', '227,119,194', '127,127,127', '188,189,34', '23,190,207'), @code - 1), color_hsv((@code * 0.618033988749895) % 1 * 360, 75, 85)), 'alpha', 110))"/>
                  <Option name="type" type="int" value="3"/>
                </Option>
              </Option>
              <Option name="type" type="QString" value="collection"/>
            </Option>
          </data_defined_properties>
        </layer>
      </symbol>
    </symbols>
    <source-symbol>
      <symbol name="0" type="fill" alpha="1" force_rhr="0" clip_to_extent="1">
        <data_defined_properties>
          <Option type="Map">
            <Option name="name" type="QString" value=""/>
            <Option name="properties"/>
            <Option name="type" type="QString" value="collection"/>
          </Option>
        </data_defined_properties>
        <layer enabled="1" pass="0" locked="0" class="SimpleFill">
          <Option type="Map">
            <Option name="border_width_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0"/>
            <Option name="color" type="QString" value="31,119,180,110"/>
            <Option name="joinstyle" type="QString" value="bevel"/>
            <Option name="offset" type="QString" value="0,0"/>
            <Option name="offset_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0"/>
            <Option name="offset_unit" type="QString" value="MM"/>
            <Option name="outline_color" type="QString" value="31,119,180,255"/>
            <Option name="outline_style" type="QString" value="solid"/>
            <Option name="outline_width" type="QString" value="0.4"/>
            <Option name="outline_width_unit" type="QString" value="MM"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
          <prop v="3x:0,0,0,0,0,0" k="border_width_map_unit_scale"/>
          <prop v="31,119,180,110" k="color"/>
          <prop v="bevel" k="joinstyle"/>
          <prop v="0,0" k="offset"/>
          <prop v="3x:0,0,0,0,0,0" k="offset_map_unit_scale"/>
          <prop v="MM" k="offset_unit"/>
          <prop v="31,119,180,255" k="outline_color"/>
          <prop v="solid" k="outline_style"/>
          <prop v="0.4" k="outline_width"/>
          <prop v="MM" k="outline_width_unit"/>
          <prop v="solid" k="style"/>
          <data_defined_properties>
            <Option type="Map">
              <Option name="name" type="QString" value=""/>
              <Option name="properties"/>
              <Option name="type" type="QString" value="collection"/>
            </Option>
          </data_defined_properties>
        </layer>
      </symbol>
    </source-symbol>
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
    <rotation/>
    <sizescale/>
  </renderer-v2>
  <blendMode>0</blendMode>
  <featureBlendMode>0</featureBlendMode>
  <layerGeometryType>2</layerGeometryType>
</qgis>
