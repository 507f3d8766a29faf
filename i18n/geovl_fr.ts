<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>@default</name>
    <message>
        <location filename="../processing/base.py" line="87"/>
        <source>GeoVL needs Python packages that this QGIS cannot import: {}. Run `make setup deploy` in the GeoVL folder (it installs them and points the plugin at them), or set the QGIS setting geovl/site_packages to a site-packages folder that has them.</source>
        <translation>GeoVL a besoin de paquets Python que ce QGIS ne peut pas importer : {}. Lancez `make setup deploy` dans le dossier de GeoVL (cela les installe et y fait pointer l'extension), ou réglez le paramètre QGIS geovl/site_packages sur un dossier site-packages qui les contient.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="94"/>
        <source>Model (preset, hub id or local path)</source>
        <translation>Modèle (préréglage, identifiant du hub ou chemin local)</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="96"/>
        <source>Device</source>
        <translation>Périphérique de calcul</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="97"/>
        <source>Precision</source>
        <translation>Précision numérique</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="101"/>
        <source>Extent (default: the whole raster)</source>
        <translation>Emprise (par défaut : tout le raster)</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="103"/>
        <source>Bands (1 for grey, or red, green, blue)</source>
        <translation>Bandes (1 pour du gris, ou rouge, vert, bleu)</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="106"/>
        <source>Tile size in pixels (0: the model&apos;s input)</source>
        <translation>Taille des tuiles en pixels (0 : l'entrée du modèle)</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="108"/>
        <source>Tile overlap in pixels</source>
        <translation>Recouvrement des tuiles en pixels</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="110"/>
        <source>Resolution in metres per pixel (0: the raster&apos;s own)</source>
        <translation>Résolution en mètres par pixel (0 : celle du raster)</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="40"/>
        <source>The raster layer &apos;{}&apos; has no coordinate reference system. Assign one (Layer Properties &gt; Source) and run again.</source>
        <translation>La couche raster « {} » n'a pas de système de coordonnées de référence. Attribuez-en un (Propriétés de la couche &gt; Source) puis relancez.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="49"/>
        <source>The extent does not overlap the layer &apos;{}&apos;.</source>
        <translation>L'emprise ne recouvre pas la couche « {} ».</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="53"/>
        <source>Rendering layer &apos;{}&apos; over this extent at this resolution would make a {} x {} px raster, more than {} Mpx. Choose a smaller extent or a coarser resolution (RESOLUTION, metres per pixel).</source>
        <translation>Le rendu de la couche « {} » sur cette emprise à cette résolution donnerait un raster de {} x {} px, plus de {} Mpx. Choisissez une emprise plus petite ou une résolution plus grossière (RESOLUTION, mètres par pixel).</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="61"/>
        <source>Reusing the rendering of layer &apos;{}&apos; in {}.</source>
        <translation>Réutilisation du rendu de la couche « {} » dans {}.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="63"/>
        <source>Rendering layer &apos;{}&apos; to a {} x {} px GeoTIFF.</source>
        <translation>Rendu de la couche « {} » en un GeoTIFF de {} x {} px.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="77"/>
        <source>Rendering layer &apos;{}&apos; failed (error {}).</source>
        <translation>Le rendu de la couche « {} » a échoué (erreur {}).</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="96"/>
        <source>Layer &apos;{}&apos; has no native resolution (web map/tile layer): set the resolution (RESOLUTION, metres per pixel) to render it at.</source>
        <translation>La couche « {} » n'a pas de résolution propre (couche web ou de tuiles) : indiquez la résolution de rendu (RESOLUTION, mètres par pixel).</translation>
    </message>
</context>
<context>
    <name>GeoVLProvider</name>
    <message>
        <location filename="../geovl_plugin/provider.py" line="20"/>
        <source>GeoVL (vision-language)</source>
        <translation>GeoVL (vision-langage)</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/provider.py" line="23"/>
        <source>GeoVL: remote-sensing vision-language models</source>
        <translation>GeoVL : modèles vision-langage pour la télédétection</translation>
    </message>
</context>
<context>
    <name>RetrieveAlgorithm</name>
    <message>
        <location filename="../processing/retrieve.py" line="32"/>
        <source>Text-to-image retrieval</source>
        <translation>Recherche d'images par texte</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="35"/>
        <source>Finds the tiles of a raster layer that best match a text query (&quot;storage tanks next to a harbour&quot;), or that look like the features of a query layer.

The raster is cut into tiles that are embedded once by an image-text model into a tile index (a GeoPackage); later queries on the same raster, model and tiling reuse it and only embed the text.

Model presets: clip-rsicd (default, CLIP fine-tuned on RSICD, fast on a CPU), git-rsclip and git-rsclip-base (SigLIP, Git-10M), remoteclip-vit-b-32 / remoteclip-vit-l-14 / remoteclip-rn50, georsclip-vit-b-32, clip-vit-b-32. A hub id (org/name) or a local folder or checkpoint file also works.

Outputs: the top-k tile footprints ranked by score (cosine similarity; minus the similarity to the negative text when one is given), an optional heatmap with one score per tile, and the tile index.</source>
        <translation>Trouve les tuiles d'une couche raster qui correspondent le mieux à une requête textuelle (« des réservoirs près d'un port »), ou qui ressemblent aux entités d'une couche requête.

Le raster est découpé en tuiles, encodées une seule fois par un modèle image-texte dans un index de tuiles (un GeoPackage) ; les requêtes suivantes sur le même raster, avec le même modèle et le même tuilage, le réutilisent et n'encodent que le texte.

Préréglages de modèles : clip-rsicd (par défaut, CLIP affiné sur RSICD, rapide sur un CPU), git-rsclip et git-rsclip-base (SigLIP, Git-10M), remoteclip-vit-b-32 / remoteclip-vit-l-14 / remoteclip-rn50, georsclip-vit-b-32, clip-vit-b-32. Un identifiant du hub (org/nom), un dossier local ou un fichier de poids conviennent aussi.

Sorties : les emprises des k meilleures tuiles classées par score (similarité cosinus ; moins la similarité au texte négatif s'il est donné), une carte de chaleur facultative avec un score par tuile, et l'index des tuiles.</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="47"/>
        <source>Raster layer</source>
        <translation>Couche raster</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="48"/>
        <source>Query text</source>
        <translation>Texte de la requête</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="49"/>
        <source>Negative text (what not to find)</source>
        <translation>Texte négatif (ce qu'il ne faut pas trouver)</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="51"/>
        <source>Query layer (find areas like these features)</source>
        <translation>Couche requête (trouver des zones semblables à ces entités)</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="54"/>
        <source>Number of results (top k)</source>
        <translation>Nombre de résultats (top k)</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="57"/>
        <source>Batch size</source>
        <translation>Taille des lots</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="59"/>
        <source>Matching tiles</source>
        <translation>Tuiles correspondantes</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="61"/>
        <source>Similarity heatmap</source>
        <translation>Carte de chaleur de similarité</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="63"/>
        <source>Tile index (default: kept in the GeoVL cache)</source>
        <translation>Index des tuiles (par défaut : conservé dans le cache GeoVL)</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="63"/>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="73"/>
        <source>Choose a raster layer (INPUT).</source>
        <translation>Choisissez une couche raster (INPUT).</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="79"/>
        <source>Give a query text (QUERY), or a query layer (QUERY_LAYER) with features showing what to find.</source>
        <translation>Donnez un texte de requête (QUERY), ou une couche requête (QUERY_LAYER) dont les entités montrent ce qu'il faut trouver.</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="93"/>
        <source>{} tiles in the index ({} embedded in this run).</source>
        <translation>{} tuiles dans l'index ({} encodées lors de cette exécution).</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="96"/>
        <source>like {} feature(s) of the query layer</source>
        <translation>semblable à {} entité(s) de la couche requête</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="129"/>
        <source>The query layer has no features with a geometry.</source>
        <translation>La couche requête n'a aucune entité avec une géométrie.</translation>
    </message>
</context>
</TS>
